// Text an attacker controls (a comm, an argv, a recording) and the check that none of its control,
// bidi or format characters reached a human-readable output raw.
import assert from 'node:assert/strict';
import fc from 'fast-check';

/** ESC ] 0 ; T BEL (retitle the terminal), ESC [ 2 J (clear it): 15 bytes, fits a comm */
export const RETITLE_AND_CLEAR = '\x1b]0;T\x07\x1b[2J';
/** U+202E: `ab\u202egnp.exe` shows as `abexe.png` */
export const RLO = '\u202e';

/** every kind of character the sanitizer must escape, one or more of each */
export const NASTY_CHARS: readonly string[] = [
  ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)),
  '\x7f',
  ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(0x80 + i)),
  '\u061c', '\u200b', '\u200c', '\u200d', '\u200e', '\u200f',
  '\u202a', '\u202b', '\u202c', '\u202d', '\u202e',
  '\u2060', '\u2061', '\u2062', '\u2063', '\u2064', '\u2066', '\u2067', '\u2068', '\u2069',
  '\u2028', '\u2029', '\ufeff', '\u00ad', '\ufff9', '\u{e0001}', '\u{e0041}',
  '\ud800', '\udfff',
];

/** what must never reach a terminal raw (a newline between lines aside: see assertNoRawControls) */
const RAW = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

/**
 * Any one code point, a lone surrogate included. (fast-check's `unit: 'binary'` does the same but
 * spends seconds building tables on its first use.)
 */
export const anyCodePoint: fc.Arbitrary<string> = fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp));

/**
 * Strings built to hurt: nasty characters, backslashes and the letters of escapes (to catch an
 * ambiguous form), ordinary and non-ASCII letters, whole escape sequences.
 */
export function hostileString(maxLength = 40): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...NASTY_CHARS) },
    { weight: 2, arbitrary: fc.constantFrom('\\', 'x', 'u', '{', '}', '1b', '202e', 'é', '中', '😀', ' ', '=', '+', '-', '@', ',', '"', "'") },
    { weight: 1, arbitrary: fc.constantFrom(RETITLE_AND_CLEAR, `ab${RLO}gnp.exe`, '\x1b[31m', '\x9b2J', '{red-fg}', '{/}') },
    { weight: 2, arbitrary: fc.string({ unit: anyCodePoint, maxLength: 4 }) },
  );
  return fc.array(piece, { maxLength: Math.max(1, Math.floor(maxLength / 2)) }).map((a) => a.join(''));
}

/**
 * Fails when `text` holds a control, bidi, format, surrogate or separator character, newlines
 * (which separate lines of output) aside. `where` names the output in the failure.
 */
export function assertNoRawControls(text: string, where: string): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = RAW.exec(lines[i]!);
    if (m) {
      const cp = m[0].codePointAt(0)!.toString(16).padStart(4, '0');
      assert.fail(`${where}: raw U+${cp} on line ${i + 1}: ${JSON.stringify(lines[i])}`);
    }
  }
}
