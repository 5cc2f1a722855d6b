// The one way a foreign string reaches a terminal or a human-readable file. A process names itself
// (comm, argv), a recording says anything it likes (addresses, event types, messages), a file name
// is whatever it was given: printed raw, `\e]0;…\a` retitles root's terminal and `\e[2J` wipes it,
// and U+202E makes `ab\u202egnp.exe` read as `abexe.png`. JSON output stays exact (JSON.stringify
// escapes it); every other view puts such text through terminalText (or oneLine) exactly once, at
// the point where it meets sockwatch's own words.

/**
 * Escaped: every control (C0, DEL, C1: Cc), every format character (Cf: bidi embeddings,
 * overrides and isolates, U+200B–U+200F, U+2060–U+2064, U+FEFF, U+00AD, tag characters…), lone
 * surrogates (Cs) and the line and paragraph separators U+2028/U+2029 (Zl, Zp).
 */
const ESCAPED = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
/** what makes a string need the slow path: a character to escape, or a backslash */
const NEEDS_WORK = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\\]/u;

function hex(n: number, digits: number): string {
  return n.toString(16).padStart(digits, '0');
}

/** `\x1b` up to U+00FF, `\u202e` in the BMP, `\u{e0001}` above it */
function escapeOf(cp: number): string {
  if (cp <= 0xff) return `\\x${hex(cp, 2)}`;
  if (cp <= 0xffff) return `\\u${hex(cp, 4)}`;
  return `\\u{${cp.toString(16)}}`;
}

/**
 * `text` as visible, unambiguous, one-line terminal text: every character ESCAPED matches becomes
 * `\xHH`, `\uHHHH` or `\u{H…}` (lowercase hex); everything else, `é` and `中` included, stays.
 *
 * Unambiguous: a backslash is doubled where it could be read as the start of an escape, i.e. when
 * it is followed by `x`, `u`, another backslash or an escaped character. A literal `\x1b` (four
 * printable characters) thus shows as `\\x1b`, never as the same text as an ESC; a backslash
 * anywhere else (`grep '\d+'`) is shown as is. The mapping is injective, so it is not idempotent:
 * a string must go through here once, never twice.
 */
export function terminalText(text: string): string {
  if (!NEEDS_WORK.test(text)) return text;
  let out = '';
  // for..of walks code points: a surrogate pair is one astral character, a lone surrogate one unit
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '\\') {
      const next = chars[i + 1];
      out += next !== undefined && (next === '\\' || next === 'x' || next === 'u' || ESCAPED.test(next)) ? '\\\\' : '\\';
    } else if (ESCAPED.test(ch)) {
      out += escapeOf(ch.codePointAt(0)!);
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * terminalText for a one-line field (a header, a log row, a status message): runs of white space,
 * line breaks and tabs included, first fold to one space and the ends are trimmed — a command line
 * from `node -e '…'` keeps its words, not its layout. The other controls are escaped, not folded.
 */
export function oneLine(text: string): string {
  return terminalText(text.replace(/\s+/g, ' ').trim());
}

/**
 * The first `end` UTF-16 units of escaped text, one fewer when `end` would cut a surrogate pair in
 * half: a clipped `😀` must not leave a lone surrogate, the one thing terminalText had escaped.
 */
export function headUnits(text: string, end: number): string {
  const s = text.slice(0, Math.max(0, end));
  const last = s.charCodeAt(s.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? s.slice(0, -1) : s;
}

/** The units of escaped text from `start` on, one fewer when `start` falls inside a surrogate pair. */
export function tailUnits(text: string, start: number): string {
  const s = text.slice(Math.max(0, start));
  const first = s.charCodeAt(0);
  return first >= 0xdc00 && first <= 0xdfff ? s.slice(1) : s;
}

/** True when `text` holds nothing terminalText would escape (tests and assertions use it). */
export function isTerminalSafe(text: string): boolean {
  return !ESCAPED.test(text);
}
