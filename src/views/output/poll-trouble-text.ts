// The words for a poll that failed for a transient reason and for the polls resuming, shared by
// line output, --json's stderr notices and the TUI's status line.
import { formatDuration } from '../../util/duration';
import type { SessionNotice } from '../session-types';

type PollTrouble = Extract<SessionNotice, { kind: 'poll_failed' | 'poll_resumed' }>;

export function isPollTrouble(n: SessionNotice): n is PollTrouble {
  return n.kind === 'poll_failed' || n.kind === 'poll_resumed';
}

export function pollTroubleText(n: PollTrouble): string {
  if (n.kind === 'poll_failed') return `a poll failed (${n.reason}); retrying every ${formatDuration(n.intervalMs)}`;
  return `polls resumed after ${n.failed} failed`;
}
