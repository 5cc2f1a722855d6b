// The tracepoint `format` parser on the kernel's own files and on broken ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FormatError, parseTracepointFormat, requireField } from '../../src/sources/ebpf/tracepoint-format';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/ebpf');
const real = readFileSync(path.join(FIXTURES, 'inet_sock_set_state.format'), 'latin1');

test('inet_sock_set_state of Linux 6.18: id, every field with offset, size, sign and array length', () => {
  const f = parseTracepointFormat(real);
  assert.equal(f.name, 'inet_sock_set_state');
  assert.equal(f.id, 2287);
  assert.equal(f.fields.size, 15);
  assert.deepEqual(f.fields.get('skaddr'), { name: 'skaddr', type: 'const void *', offset: 8, size: 8, signed: false });
  assert.deepEqual(f.fields.get('oldstate'), { name: 'oldstate', type: 'int', offset: 16, size: 4, signed: true });
  assert.deepEqual(f.fields.get('saddr_v6'), { name: 'saddr_v6', type: '__u8', offset: 40, size: 16, signed: false, arrayLength: 16 });
  assert.equal(f.fields.get('common_pid')?.offset, 4);
  const t = parseTracepointFormat(readFileSync(path.join(FIXTURES, 'task_newtask.format'), 'latin1'));
  assert.deepEqual([t.id, t.fields.get('clone_flags')?.offset, t.fields.get('comm')?.arrayLength], [205, 32, 16]);
});

test('malformed format files are refused with the reason, never half-read', () => {
  const cases: [string, string, RegExp][] = [
    ['no ID', real.replace(/^ID:.*$/m, ''), /no ID: line/],
    ['no name', real.replace(/^name:.*$/m, ''), /no name: line/],
    ['a non-numeric ID', real.replace(/^ID: .*$/m, 'ID: 12x'), /bad tracepoint id/],
    ['a truncated field line', real.replace('offset:16;\tsize:4;\tsigned:1;', 'offset:16;\tsize:4;'), /unreadable field line/],
    ['a field twice', real.replace('field:int newstate;', 'field:int oldstate;'), /field oldstate listed twice/],
    ['an array that does not fill its size', real.replace('__u8 saddr[4];', '__u8 saddr[3];'), /saddr\[3\] does not fill/],
    ['a field outside the record', real.replace('offset:56;\tsize:16;', 'offset:4090;\tsize:16;'), /outside the record/],
    ['a zero-size field', real.replace('offset:24;\tsize:2;', 'offset:24;\tsize:0;'), /outside the record/],
    ['no fields at all', 'name: x\nID: 3\nformat:\n', /no fields/],
    ['a declaration with no type', real.replace('field:int oldstate;', 'field:oldstate;'), /unreadable field declaration/],
    ['binary garbage', '\u0000\u0001field:\u00ff', /no name: line/],
  ];
  for (const [what, text, want] of cases) {
    assert.throws(() => parseTracepointFormat(text), (e: unknown) => e instanceof FormatError && want.test(e.message), what);
  }
});

test('requireField: the size the program reads, aligned', () => {
  const f = parseTracepointFormat(real);
  assert.equal(requireField(f, 'sport', [2]).offset, 24);
  assert.throws(() => requireField(f, 'sport', [4]), /sport is 2 bytes, expected 4/);
  assert.throws(() => requireField(f, 'nope', [4]), /has no field nope/);
  const odd = parseTracepointFormat(real.replace('field:int newstate;\toffset:20;', 'field:int newstate;\toffset:22;'));
  assert.throws(() => requireField(odd, 'newstate', [4]), /newstate at offset 22 is not aligned/);
});
