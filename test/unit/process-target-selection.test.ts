import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { describeSpec, descendants, matchesName, selectTargets, selfAndAncestors } from '../../src/process/target-selection';
import type { ProcessEntry } from '../../src/process/process-table';

const p = (pid: number, ppid: number, comm: string, argv0 = comm): ProcessEntry => ({ pid, ppid, comm, argv0, startTicks: pid * 10 });

// init → sshd → bash → sockwatch(node); init → nginx master → 2 workers; a go run parent and its child
const TABLE: ProcessEntry[] = [
  p(1, 0, 'systemd'),
  p(100, 1, 'sshd'),
  p(101, 100, 'bash'),
  p(102, 101, 'node', 'node'),
  p(200, 1, 'nginx', 'nginx'),
  p(201, 200, 'nginx', 'nginx'),
  p(202, 200, 'nginx', 'nginx'),
  p(300, 101, 'go', 'go'),
  p(301, 300, 'client', 'client'),
  p(400, 1, 'gunicorn: maste', 'gunicorn'),
  p(401, 400, 'gunicorn: worke', 'gunicorn'),
  p(500, 1, 'averyverylongna', 'averyverylongname-server'),
];

describe('matchesName', () => {
  it('matches comm or argv[0] basename exactly, not substrings', () => {
    assert.ok(matchesName(p(1, 0, 'nginx'), 'nginx'));
    assert.ok(matchesName(p(1, 0, 'python3', 'myapp'), 'myapp'));
    assert.ok(!matchesName(p(1, 0, 'nginx2'), 'nginx'));
    assert.ok(!matchesName(p(1, 0, 'ngin'), 'nginx'));
  });
  it('matches a long name against the 15-byte comm the kernel keeps', () => {
    assert.ok(matchesName(p(1, 0, 'averyverylongna', ''), 'averyverylongname-server'));
    assert.ok(!matchesName(p(1, 0, 'averyverylongna', ''), 'averyverylongnb-server'));
  });
});

describe('selectTargets', () => {
  it('a PID alone, or with its descendants', () => {
    assert.deepEqual(selectTargets(TABLE, { pids: [200], children: false }), [200]);
    assert.deepEqual(selectTargets(TABLE, { pids: [200], children: true }), [200, 201, 202]);
    assert.deepEqual(selectTargets(TABLE, { pids: [300], children: true }), [300, 301]);
  });
  it('a comma list of PIDs; PIDs not in the table are left out', () => {
    assert.deepEqual(selectTargets(TABLE, { pids: [202, 201, 999], children: false }), [201, 202]);
  });
  it('a name selects every match (argv[0] too), sorted', () => {
    assert.deepEqual(selectTargets(TABLE, { pids: [], name: 'nginx', children: false }), [200, 201, 202]);
    assert.deepEqual(selectTargets(TABLE, { pids: [], name: 'gunicorn', children: false }), [400, 401]);
    assert.deepEqual(selectTargets(TABLE, { pids: [], name: 'nothing', children: true }), []);
  });
  it('never selects sockwatch itself or its ancestors by name', () => {
    const self = selfAndAncestors(TABLE, 102);
    assert.deepEqual([...self].sort((a, b) => a - b), [1, 100, 101, 102]);
    assert.deepEqual(selectTargets(TABLE, { pids: [], name: 'node', children: false }, self), []);
    assert.deepEqual(selectTargets(TABLE, { pids: [], name: 'bash', children: true }, self), []);
  });
});

describe('descendants', () => {
  it('walks the whole subtree and survives loops in malformed tables', () => {
    assert.deepEqual(descendants(TABLE, new Set([1])).sort((a, b) => a - b), [100, 101, 102, 200, 201, 202, 300, 301, 400, 401, 500]);
    const loop = [p(7, 8, 'a'), p(8, 7, 'b'), p(9, 9, 'self')];
    assert.deepEqual(descendants(loop, new Set([7])), [8]);
    assert.deepEqual(descendants(loop, new Set([9])), []);
  });
});

describe('describeSpec', () => {
  it('names what was tried', () => {
    assert.equal(describeSpec({ pids: [12], children: false }), 'PID 12');
    assert.equal(describeSpec({ pids: [12, 34], children: true }), 'PIDs 12,34 with children');
    assert.equal(describeSpec({ pids: [], name: 'nginx', children: false }), 'name "nginx"');
  });
});
