// The one sanitizer of foreign text (util/terminal-text.ts) and the CSV cell neutralizer: fixed
// cases, then properties over strings built to hurt (every control, bidi and format character,
// lone surrogates, backslashes and the letters of escapes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { headUnits, isTerminalSafe, oneLine, tailUnits, terminalText } from '../../src/util/terminal-text';
import { clipEnd, clipLine, clipMiddle, clipStart, plain, seg } from '../../src/views/tui/line';
import { csvField, neutralizeFormula, snapshotCsv } from '../../src/views/output/snapshot-csv';
import { anyCodePoint, assertNoRawControls, hostileString, NASTY_CHARS, RETITLE_AND_CLEAR, RLO } from '../helpers/hostile-text';
import { conn } from '../helpers/snapshots';

const RUNS = { numRuns: 3000 };

/**
 * The reading of the escaped form that docs/output-contracts.md describes, written independently
 * of the encoder: `\\` is a backslash, `\xHH`, `\uHHHH` and `\u{H…}` are code points, and any other
 * backslash is itself. decode(terminalText(s)) === s for every s proves the form unambiguous.
 */
function decode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '\\') {
      out += text[i++];
      continue;
    }
    const rest = text.slice(i + 1);
    let m: RegExpExecArray | null;
    if (rest.startsWith('\\')) {
      out += '\\';
      i += 2;
    } else if ((m = /^x([0-9a-f]{2})/.exec(rest))) {
      out += String.fromCodePoint(parseInt(m[1]!, 16));
      i += 1 + m[0].length;
    } else if ((m = /^u\{([0-9a-f]+)\}/.exec(rest)) ?? (m = /^u([0-9a-f]{4})/.exec(rest))) {
      // a lone surrogate's code point comes back as that lone unit
      out += String.fromCodePoint(parseInt(m[1]!, 16));
      i += 1 + m[0].length;
    } else {
      out += '\\';
      i += 1;
    }
  }
  return out;
}

/** any string at all: full code points, lone surrogates and the hostile mix */
const anyString = fc.oneof(hostileString(60), fc.string({ unit: anyCodePoint, maxLength: 30 }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength: 30 }));

test('terminal escapes, bidi and format characters are shown as escapes', () => {
  assert.equal(terminalText(RETITLE_AND_CLEAR), '\\x1b]0;T\\x07\\x1b[2J');
  assert.equal(terminalText(`ab${RLO}gnp.exe`), 'ab\\u202egnp.exe');
  assert.equal(terminalText('a\x7fb\x9bc\x85'), 'a\\x7fb\\x9bc\\x85');
  assert.equal(terminalText('\u200b\u200c\u200d\u200e\u200f\u061c'), '\\u200b\\u200c\\u200d\\u200e\\u200f\\u061c');
  assert.equal(terminalText('\u2066x\u2069\u2060\ufeff\u00ad'), '\\u2066x\\u2069\\u2060\\ufeff\\xad');
  assert.equal(terminalText('line\u2028para\u2029'), 'line\\u2028para\\u2029');
  assert.equal(terminalText('tab\tnl\ncr\r nul\0'), 'tab\\x09nl\\x0acr\\x0d nul\\x00');
  assert.equal(terminalText('lone \ud800 and \udfff'), 'lone \\ud800 and \\udfff');
  assert.equal(terminalText('tag \u{e0041}'), 'tag \\u{e0041}');
});

test('ordinary text passes unchanged, non-ASCII letters and emoji included', () => {
  for (const s of ['', 'node server.js --port 8080', 'é中😀 ÿ Ω ü', 'nginx: worker process', '[::ffff:127.0.0.1]:8080', "grep -E '\\d+' /tmp/a\\b"]) {
    assert.equal(terminalText(s), s);
  }
});

test('a backslash is doubled only where it could start an escape', () => {
  assert.equal(terminalText('\\x1b'), '\\\\x1b', 'the four characters \\x1b differ from an ESC');
  assert.equal(terminalText('\\u202e'), '\\\\u202e');
  assert.equal(terminalText('\\\\'), '\\\\\\');
  assert.equal(terminalText('\\\x1b'), '\\\\\\x1b', 'a backslash before an escaped character');
  assert.equal(terminalText('C:\\dir\\'), 'C:\\dir\\');
  assert.notEqual(terminalText('\\x1b'), terminalText('\x1b'));
});

test('property: the output never holds a character that drives or reorders a terminal', () => {
  fc.assert(
    fc.property(anyString, (s) => {
      const out = terminalText(s);
      assert.ok(isTerminalSafe(out), JSON.stringify(out));
      assert.ok(!out.includes('\n'));
    }),
    RUNS,
  );
});

test('property: unambiguous — the escaped form reads back to the original', () => {
  fc.assert(fc.property(anyString, (s) => assert.equal(decode(terminalText(s)), s)), RUNS);
});

test('property: text with nothing to escape and no backslash is returned as is', () => {
  fc.assert(
    fc.property(fc.string({ unit: anyCodePoint, maxLength: 40 }), (raw) => {
      const s = [...raw].filter((ch) => isTerminalSafe(ch) && ch !== '\\').join('');
      assert.equal(terminalText(s), s);
    }),
    RUNS,
  );
});

test('every nasty character alone is escaped', () => {
  for (const ch of NASTY_CHARS) {
    const out = terminalText(ch);
    assert.match(out, /^\\(x[0-9a-f]{2}|u[0-9a-f]{4}|u\{[0-9a-f]+\})$/, JSON.stringify(ch));
  }
});

test('oneLine folds white space and line breaks to one space, and escapes the rest', () => {
  assert.equal(oneLine("node -e \n const a = 1;\n\tfoo()  "), 'node -e const a = 1; foo()');
  assert.equal(oneLine(`a\u2028b\u2029c`), 'a b c');
  assert.equal(oneLine(`x${RETITLE_AND_CLEAR}`), 'x\\x1b]0;T\\x07\\x1b[2J');
  assert.equal(oneLine(`${RLO}exe`), '\\u202eexe');
  fc.assert(
    fc.property(anyString, (s) => {
      const out = oneLine(s);
      assert.ok(isTerminalSafe(out));
      assert.ok(!/\s\s|^\s|\s$/.test(out), JSON.stringify(out));
    }),
    RUNS,
  );
});

test('clipping escaped text never cuts a surrogate pair in half', () => {
  assert.equal(headUnits('a😀b', 2), 'a');
  assert.equal(headUnits('a😀b', 3), 'a😀');
  assert.equal(tailUnits('a😀b', 2), 'b');
  assert.equal(tailUnits('a😀b', 1), '😀b');
  fc.assert(
    fc.property(anyString, fc.nat(12), (raw, width) => {
      const s = terminalText(raw);
      for (const clipped of [clipEnd(s, width), clipStart(s, width), clipMiddle(s, width), plain(clipLine([seg(s)], width))]) {
        assert.ok(isTerminalSafe(clipped), JSON.stringify(clipped));
        assert.ok(clipped.length <= Math.max(width, 0) || clipped === s, JSON.stringify(clipped));
      }
    }),
    RUNS,
  );
});

test('CSV: a cell that a spreadsheet would run as a formula is neutralized', () => {
  assert.equal(csvField("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
  assert.equal(csvField('+1+1'), "'+1+1");
  assert.equal(csvField('-2+3'), "'-2+3");
  assert.equal(csvField('@SUM(A1:A2)'), "'@SUM(A1:A2)");
  assert.equal(csvField('=1,2'), `"'=1,2"`, 'neutralized, then quoted');
  assert.equal(neutralizeFormula('\t=1'), "'\t=1");
  assert.equal(neutralizeFormula('\r=1'), "'\r=1");
  // a tab or CR is escaped first: the cell starts with a backslash, which runs nothing
  assert.equal(csvField('\t=1'), '\\x09=1');
  assert.equal(csvField('a,"b"'), '"a,""b"""');
  assert.equal(csvField('127.0.0.1'), '127.0.0.1');
  assert.equal(csvField('::1'), '::1');
});

test('CSV: numbers sockwatch writes stay numbers', () => {
  assert.equal(csvField(-5), '-5');
  assert.equal(csvField(-0.5), '-0.5');
  assert.equal(csvField(0), '0');
  assert.equal(csvField(undefined), '');
});

test('property: no CSV cell of a string starts a formula or holds a raw control', () => {
  fc.assert(
    fc.property(anyString, (s) => {
      const cell = csvField(s);
      const unquoted = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
      assert.ok(!/^[=+\-@\t\r]/.test(unquoted), JSON.stringify(cell));
      assert.ok(isTerminalSafe(cell), JSON.stringify(cell));
      assert.ok(!/[,"]/.test(unquoted) || cell.startsWith('"'), 'a comma or quote is quoted');
    }),
    RUNS,
  );
});

test('a snapshot CSV of hostile addresses: neutralized, escaped, one row per connection', () => {
  const c = conn({ inode: 7, local: '127.0.0.1:40000', remote: '10.0.0.2:80' });
  c.remote = { address: "=cmd|' /C calc'!A0", port: 80 };
  c.local = { address: `${RETITLE_AND_CLEAR}${RLO}\n1.2.3.4`, port: 1 };
  const text = snapshotCsv([{ connection: c }]);
  assertNoRawControls(text, 'csv');
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.ok(lines[1]!.includes(",'=cmd|' /C calc'!A0,80,"), lines[1]);
  assert.ok(lines[1]!.startsWith(',tcp,\\x1b]0;T\\x07\\x1b[2J\\u202e\\x0a1.2.3.4,1,'), lines[1]);
});
