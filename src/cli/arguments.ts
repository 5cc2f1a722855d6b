// Parsers for command-line values. Each throws commander's InvalidArgumentError so a bad value is
// a usage error (exit 2) with commander's one-line message.
import { InvalidArgumentError } from 'commander';
import type { SourceName, StateFilter } from '../model';
import { parseStateList } from './state-list';
import { formatExactDuration, MAX_DURATION_MS, parseDuration } from '../util/duration';
import { SOURCE_NAMES } from '../sources/open-source';
import { isSockwatchError } from '../errors';

export function parsePid(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError('PID must be a positive integer.');
  }
  return Number(text);
}

/** "12,34": PIDs, each a positive integer. */
export function parsePidList(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new InvalidArgumentError('expected a comma list of PIDs, e.g. 12,34.');
  return parts.map(parsePid);
}

/** "established", "all", or a comma list of state names, case-insensitive. */
export function parseStates(text: string): StateFilter {
  try {
    return parseStateList(text);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

/** A duration in [minMs, maxMs] (whole ms); maxMs is shown in the message in human units. */
export function durationParser(minMs: number, maxMs = MAX_DURATION_MS): (text: string) => number {
  return (text) => {
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch (e) {
      throw new InvalidArgumentError(isSockwatchError(e) ? `${e.message}.` : String(e));
    }
    if (ms < minMs) throw new InvalidArgumentError(`must be at least ${minMs}ms.`);
    if (ms > maxMs) throw new InvalidArgumentError(`must be at most ${formatExactDuration(maxMs)}.`);
    return ms;
  };
}

export function parseSourceName(text: string): SourceName {
  const s = SOURCE_NAMES.find((n) => n === text.toLowerCase());
  if (!s) throw new InvalidArgumentError(`expected one of ${SOURCE_NAMES.join(', ')}.`);
  return s;
}

export function choiceParser<T extends string>(choices: readonly T[]): (text: string) => T {
  return (text) => {
    const c = choices.find((x) => x === text.toLowerCase());
    if (!c) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}.`);
    return c;
  };
}
