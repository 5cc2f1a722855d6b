import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram, misuse } from '../../src/cli/main';

const program = buildProgram(() => undefined);

test('misuse: nothing to parse → the help; a word that is no command and no PID → named', () => {
  assert.deepEqual(misuse(program, []), { help: true });
  const error = (args: string[]): string => {
    const m = misuse(program, args);
    return m !== undefined && 'error' in m ? m.error : '';
  };
  assert.match(error(['frob', '1']), /^error: unknown command 'frob'/);
  assert.match(error(['snapshots', '1']), /unknown command 'snapshots'/);
  assert.match(error(['+5']), /unknown command '\+5'/);
});

test('misuse: commands, help, options and PIDs are left to commander', () => {
  for (const args of [['snapshot', '1'], ['watch', '1'], ['demo'], ['help'], ['1234'], ['1234', '--json'], ['--version'], ['-h'], ['--json', '1234'], ['0']]) {
    assert.equal(misuse(program, args), undefined, args.join(' '));
  }
});

test('--brief takes auto, ebpf, destroy or none (default auto); anything else is a usage error', async () => {
  let seen: unknown;
  const p = buildProgram(() => undefined);
  const watch = p.commands.find((c) => c.name() === 'watch')!;
  watch.action((_pid: number, o: { brief: unknown }) => {
    seen = o.brief;
  });
  await p.parseAsync(['node', 'sockwatch', 'watch', '1']);
  assert.equal(seen, 'auto');
  await p.parseAsync(['node', 'sockwatch', 'watch', '1', '--brief', 'DESTROY']);
  assert.equal(seen, 'destroy');
  const q = buildProgram(() => undefined);
  q.commands.forEach((c) => c.configureOutput({ writeErr: () => undefined }));
  await assert.rejects(q.parseAsync(['node', 'sockwatch', 'watch', '1', '--brief', 'bpf']), /argument 'bpf' is invalid. expected one of auto, ebpf, destroy, none/);
});

test('misuse: a lone word that is no command is a process name: sockwatch nginx → watch --name nginx', () => {
  assert.deepEqual(misuse(program, ['nginx']), { rewrite: ['watch', '--name', 'nginx'] });
  assert.deepEqual(misuse(program, ['php-fpm8.2', '--json']), { rewrite: ['watch', '--name', 'php-fpm8.2', '--json'] });
  // a second word is not an option: a mistyped command, said as one
  assert.ok('error' in (misuse(program, ['snapshots', '1']) ?? {}));
});
