// --state is a lens, not a scissors: the tracker follows every state, the lens chooses what a
// recording writes, and every recording it writes is self-consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createTracker } from '../../src/core/tracker';
import { EventLens, touchedStates, touches } from '../../src/core/lens';
import { TCP_STATES, type StateFilter, type TcpState } from '../../src/model';
import type { TrackerEvent } from '../../src/core/tracker-types';
import { snap, summarizeConnections } from '../helpers/snapshots';

const ESTABLISHED: StateFilter = new Set<TcpState>(['ESTABLISHED']);

function through(lens: EventLens, events: readonly TrackerEvent[]): string[] {
  return summarizeConnections(lens.pass(events));
}

test('SYN_SENT then ESTABLISHED under the default lens: one open, at the move, in its new state', () => {
  const t = createTracker();
  const lens = new EventLens(ESTABLISHED);
  assert.deepEqual(through(lens, t.poll(snap([]), 0)), []);
  assert.deepEqual(through(lens, t.poll(snap([{ inode: 1, state: 'SYN_SENT' }]), 100)), []);
  const moved = lens.pass(t.poll(snap([{ inode: 1 }]), 200)).filter((e) => e.type !== 'poll');
  assert.equal(moved.length, 1);
  const open = moved[0];
  assert.ok(open?.type === 'open');
  assert.equal(open.atMs, 200);
  assert.equal(open.conn.connection.state, 'ESTABLISHED');
  assert.equal(open.conn.firstSeenMs, 100); // the tracker saw it first in SYN_SENT
  assert.deepEqual(through(lens, t.poll(snap([]), 300)), ['close c1 200']);
  assert.equal(t.stats(300).opened, 1);
});

test('ESTABLISHED → CLOSE_WAIT is a state event, written under the default lens, never a close', () => {
  const t = createTracker();
  const lens = new EventLens(ESTABLISHED);
  lens.pass(t.poll(snap([]), 0));
  assert.deepEqual(through(lens, t.poll(snap([{ inode: 1 }]), 100)), ['open c1']);
  assert.deepEqual(through(lens, t.poll(snap([{ inode: 1, state: 'CLOSE_WAIT' }]), 200)), ['state c1 ESTABLISHED>CLOSE_WAIT']);
  assert.deepEqual(through(lens, t.poll(snap([{ inode: 1, state: 'CLOSE_WAIT' }]), 5000)), []);
  assert.equal(t.stats(5000).closed, 0);
  assert.equal(t.stats(5000).live, 1);
  // once shown, a connection's later moves are written too, also between hidden states
  assert.deepEqual(through(lens, t.poll(snap([{ inode: 1, state: 'LAST_ACK' }]), 5100)), ['state c1 CLOSE_WAIT>LAST_ACK']);
  assert.deepEqual(through(lens, t.poll(snap([]), 5200)), ['close c1 5100']);
});

test('a connection never in a shown state writes nothing, though it is tracked and counted', () => {
  const t = createTracker();
  const lens = new EventLens(ESTABLISHED);
  lens.pass(t.poll(snap([]), 0));
  assert.deepEqual(through(lens, t.poll(snap([{ inode: 1, state: 'SYN_SENT' }]), 100)), []);
  assert.deepEqual(through(lens, t.poll(snap([]), 200)), []);
  const s = t.stats(200);
  assert.deepEqual([s.opened, s.closed], [1, 1]);
});

test('listening sockets are tracked (events under all) but are not connections', () => {
  const t = createTracker();
  const all = new EventLens('all');
  const est = new EventLens(ESTABLISHED);
  const first = t.poll(snap([{ inode: 1, state: 'LISTEN', local: '0.0.0.0:8080', remote: '0.0.0.0:0' }]), 0);
  assert.deepEqual(through(all, first), ['open c1 pre']);
  assert.deepEqual(through(est, first), []);
  const e = t.poll(snap([{ inode: 2, state: 'LISTEN', local: '0.0.0.0:9090', remote: '0.0.0.0:0' }, { inode: 3, local: '10.0.0.1:8080', remote: '10.0.0.9:5555' }]), 100);
  assert.deepEqual(through(all, e), ['close c1 100', 'open c2', 'open c3']);
  assert.deepEqual(through(est, e), ['open c3']);
  const s = t.stats(100);
  assert.deepEqual([s.live, s.listening, s.opened, s.closed, s.peak], [1, 1, 1, 0, 1]);
  assert.deepEqual([...s.perRemote.keys()], ['10.0.0.9:5555']);
  assert.deepEqual(t.history().map((h) => h.count), [0, 1]);
  assert.equal(t.live().length, 2);
});

test('the lens passes findings and exits; a brief close passes when ESTABLISHED or its state is shown', () => {
  const lens = new EventLens(new Set<TcpState>(['CLOSE_WAIT']));
  const conn = { id: 'c9', key: 'k', connection: { protocol: 'tcp' as const, local: { address: '1.1.1.1', port: 1 }, remote: { address: '2.2.2.2', port: 2 }, state: 'FIN_WAIT1' as const, inode: 0 }, firstSeenMs: 0, lastSeenMs: 1, preexisting: false, states: [] };
  const brief: TrackerEvent = { type: 'close', atMs: 1, conn, lifetimeMs: 1, closeTime: 'exact', brief: true };
  assert.equal(lens.pass([brief]).length, 0);
  assert.equal(new EventLens(ESTABLISHED).pass([brief]).length, 1);
  assert.equal(new EventLens('all').pass([brief]).length, 1);
  const exit: TrackerEvent = { type: 'exit', atMs: 2, reason: 'exited', process: { pid: 1, command: 'x', cmdline: 'x', user: 'u' } };
  assert.equal(lens.pass([exit]).length, 1);
  assert.deepEqual(touchedStates(brief), ['ESTABLISHED']);
  assert.equal(touches(ESTABLISHED, touchedStates(brief)), true);
  assert.equal(touches(ESTABLISHED, touchedStates(exit)), true);
});

test('property: any lens over any sequence writes a self-consistent recording', () => {
  const stateArb = fc.constantFrom<TcpState>(...TCP_STATES.filter((s) => s !== 'TIME_WAIT' && s !== 'NEW_SYN_RECV'));
  const pollArb = fc.array(fc.record({ inode: fc.integer({ min: 1, max: 6 }), state: stateArb }), { maxLength: 6 });
  const filterArb = fc.oneof(fc.constant<StateFilter>('all'), fc.subarray([...TCP_STATES], { minLength: 1 }).map((a) => new Set(a) as StateFilter));
  fc.assert(
    fc.property(fc.array(pollArb, { minLength: 1, maxLength: 25 }), filterArb, fc.boolean(), (polls, filter, exits) => {
      const t = createTracker();
      const lens = new EventLens(filter);
      const written: TrackerEvent[] = [];
      polls.forEach((p, i) => {
        const unique = [...new Map(p.map((c) => [c.inode, c])).values()];
        written.push(...lens.pass(t.poll(snap(unique), i * 100)));
      });
      if (exits) written.push(...lens.pass(t.processGone(polls.length * 100)));
      const open = new Set<string>();
      for (const e of written) {
        if (e.type === 'open') {
          assert.ok(!open.has(e.conn.id), `${e.conn.id} opened twice`);
          open.add(e.conn.id);
        } else if (e.type === 'state') {
          assert.ok(open.has(e.conn.id), `state of ${e.conn.id} before its open`);
        } else if (e.type === 'close') {
          assert.ok(open.delete(e.conn.id), `close of ${e.conn.id} without its open`);
        }
      }
      // what is still open is exactly what the lens says is shown
      for (const id of open) assert.ok(lens.isShown(id));
      if (exits) assert.equal(open.size, 0);
      // and the counts do not depend on the lens
      const s = t.stats(polls.length * 100);
      assert.ok(s.opened >= 0 && s.closed <= s.opened + s.closedPreexisting);
    }),
    { numRuns: 300 },
  );
});
