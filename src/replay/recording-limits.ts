// How much of a recording sockwatch takes in. A recording is a file someone handed over: its
// numbers, strings and sizes are whatever its author chose, so each is bounded here before replay
// or report turns it into steps, objects and pages. docs/report.md states the memory bound these
// give and how it was measured.
import { MAX_DURATION_MS, MAX_INTERVAL_MS, MIN_INTERVAL_MS } from '../util/duration';

export interface RecordingLimits {
  /** a longer line is skipped unread (a summary of ~30,000 live connections fits) */
  maxLineBytes: number;
  /** a line holding more JSON values than this (counted as `{`, `[` and `,`) is skipped unparsed */
  maxLineValues: number;
  /** events kept; the rest of the file is not read */
  maxEvents: number;
  /** characters of free text kept over all events (command lines, messages, finding ids) */
  maxTextChars: number;
  /** skipped lines listed one by one; beyond them only counted */
  maxWarnings: number;
}

/** The limits of a file read by `replay` and `report`. */
export const FILE_LIMITS: RecordingLimits = {
  maxLineBytes: 16 * 1024 * 1024,
  maxLineValues: 1_000_000,
  maxEvents: 50_000,
  maxTextChars: 8 * 1024 * 1024,
  maxWarnings: 100,
};

/** A live watch collects the events it writes itself: nothing to distrust, nothing cut. */
export const NO_LIMITS: RecordingLimits = {
  maxLineBytes: Infinity,
  maxLineValues: Infinity,
  maxEvents: Infinity,
  maxTextChars: Infinity,
  maxWarnings: Infinity,
};

/** Replay steps (the polls rebuilt): quiet polls are spaced out so the plan holds no more. */
export const MAX_REPLAY_STEPS = 50_000;

/** Longest strings kept, by what they hold; longer ones are cut and end in '…'. */
export const MAX_CHARS = {
  /** connection ids, cookies, start times, sources, kinds, reasons */
  word: 64,
  /** an IPv6 address with a zone fits */
  address: 64,
  /** a comm, a user name */
  name: 256,
  /** a command line, a finding's message */
  text: 64 * 1024,
} as const;

/** Finding ids kept per finding event. */
export const MAX_FINDING_IDS = 1000;

/** A recording's poll interval as the CLI would accept it (--interval). */
export function clampInterval(ms: number): number {
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, ms));
}

/** A duration as the CLI would accept it (--duration): 0 to MAX_DURATION_MS. */
export function clampDuration(ms: number): number {
  return Math.min(MAX_DURATION_MS, Math.max(0, ms));
}

/** A count (bytes, exchanges, an inode): a non-negative number a double still holds exactly. */
export function clampCount(n: number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, n));
}

/** `s` cut to `max` characters, the cut marked. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
