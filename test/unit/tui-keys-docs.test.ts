// The key table (src/views/tui/keys.ts) is the one source of the keys: the help overlay is built
// from it, and the docs are checked against it here so they cannot drift either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KEY_TABLE, REPLAY_KEYS, actionFor, replayActionFor, rowLabels, type KeyPress, type KeyRow } from '../../src/views/tui/keys';
import { helpLines } from '../../src/views/tui/screen-model';
import { plain } from '../../src/views/tui/line';

const ROOT = path.join(__dirname, '..', '..', '..');

/** The paragraph starting with "Keys:" in a docs file, as one line. */
function keysParagraph(file: string): string {
  const text = fs.readFileSync(path.join(ROOT, 'docs', file), 'utf8');
  const para = text.split(/\n\s*\n/).find((p) => /(^|\n|\. )Keys: /.test(p));
  assert.ok(para, `docs/${file} has no "Keys:" paragraph`);
  return para.replace(/\s+/g, ' ');
}

/** `x` in backticks; a key spelled as a word (Ctrl-C, space, PgUp) may also stand bare. */
function mentions(para: string, label: string): boolean {
  if (para.includes('`' + label + '`')) return true;
  return label.length > 1 && /^[A-Za-z]/.test(label) && new RegExp(`(^|[^A-Za-z])${label}([^A-Za-z]|$)`).test(para);
}

function missing<A>(rows: readonly KeyRow<A>[], para: string): string[] {
  return rows.flatMap(rowLabels).filter((l) => !mentions(para, l));
}

test('every key of the live table is in docs/cli.md\'s Keys paragraph', () => {
  const para = keysParagraph('cli.md');
  assert.deepEqual(missing(KEY_TABLE, para), []);
});

test('every replay key is in docs/report.md\'s Keys paragraph', () => {
  const para = keysParagraph('report.md');
  assert.deepEqual(missing(REPLAY_KEYS, para), []);
});

test('the docs check fails on a key the docs do not name', () => {
  assert.deepEqual(missing([{ keys: [{ label: 'Z', ch: 'Z', action: { type: 'quit' } }], help: 'x' }], keysParagraph('cli.md')), ['Z']);
});

test('the help overlay lists every row of the key table, and the replay rows in a replay', () => {
  const live = helpLines(false, 60).map(plain).join('\n');
  for (const row of KEY_TABLE) {
    assert.ok(live.includes(row.help), `help lacks: ${row.help}`);
    for (const l of rowLabels(row)) assert.ok(live.includes(l), `help lacks key ${l}`);
  }
  const replay = helpLines(true, 60).map(plain).join('\n');
  for (const row of REPLAY_KEYS) assert.ok(replay.includes(row.help), `replay help lacks: ${row.help}`);
  // space pauses playback in a replay: listed once, as the replay's
  assert.equal(replay.split('\n').filter((l) => /^space /.test(l)).length, 1);
  assert.doesNotMatch(replay, /freeze/);
});

test('the help fits an 80x24 terminal, replay included (2 lines of border)', () => {
  for (const replay of [false, true]) {
    const lines = helpLines(replay, 24);
    assert.ok(lines.length + 2 <= 24, `${lines.length} lines`);
    for (const l of lines) assert.ok(plain(l).length + 4 <= 80, plain(l));
  }
});

test('every key in the table maps to its action, and nothing else does', () => {
  const press = (key: { name?: string; ch?: string; ctrl?: boolean }): KeyPress => ({ ...(key.name !== undefined ? { name: key.name } : { ch: key.ch }), ctrl: key.ctrl === true });
  for (const row of KEY_TABLE) for (const key of row.keys) assert.deepEqual(actionFor(press(key)), key.action, key.label);
  for (const row of REPLAY_KEYS) for (const key of row.keys) assert.deepEqual(replayActionFor(press(key)), key.action, key.label);
  assert.equal(actionFor({ ch: 'x' }), undefined);
  assert.equal(actionFor({ name: 'e', ch: 'e', ctrl: true }), undefined);
  assert.deepEqual(actionFor({ name: 'c', ctrl: true }), { type: 'quit' });
  assert.deepEqual(actionFor({ name: 'c', ch: 'c' }), { type: 'export', format: 'csv' });
});
