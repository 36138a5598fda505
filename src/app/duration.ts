import { shown } from '../os/shown';
import { formatNs } from '../render/units';
import { UsageError } from './errors';

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  min: 60e9,
  h: 3600e9,
};

/**
 * A duration's nanoseconds (rounded to whole ns), or null when `text` is not a number with a
 * unit (ns, us, µs, ms, s, m, min, h). 0 and values beyond exact integers are the caller's to judge.
 */
export function durationNs(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|min|h)$/.exec(text);
  return m ? Math.round(Number(m[1]) * UNITS[m[2]]) : null;
}

/** Parses a duration like `2s`, `500ms`, `1.5s`, `100us`, `250ns` into whole nanoseconds. */
export function parseDurationNs(flag: string, text: string): number {
  const ns = durationNs(text.trim());
  if (ns === null)
    throw new UsageError(
      `${flag}: '${shown(text)}' is not a duration (expected a number with a unit: ns, us, ms, s, m, h — e.g. 2s, 500ms)`,
    );
  if (ns <= 0 || !Number.isSafeInteger(ns))
    throw new UsageError(
      `${flag}: '${shown(text)}' is out of range (expected more than 0 and less than 104 days)`,
    );
  return ns;
}

/** `--trace-from`: a duration, or 0. */
export function parseFrom(flag: string, text: string): number {
  return durationNs(text.trim()) === 0 || text.trim() === '0' ? 0 : parseDurationNs(flag, text);
}

/** A duration no longer than `maxNs` (and no shorter than `minNs`). */
export function parseBounded(flag: string, text: string, maxNs: number, minNs = 0): number {
  const ns = parseDurationNs(flag, text);
  if (ns > maxNs)
    throw new UsageError(`${flag}: at most ${formatNs(maxNs)} of simulated time (got ${text})`);
  if (ns < minNs) throw new UsageError(`${flag}: at least ${formatNs(minNs)} (got ${text})`);
  return ns;
}

export { formatNs } from '../render/units';

/** A duration as a user writes it (`100ms`, `60s`, `250ns`): the largest unit that is exact. */
export function durationText(ns: number): string {
  for (const [unit, size] of [
    ['s', 1e9],
    ['ms', 1e6],
    ['us', 1e3],
  ] as const)
    if (ns >= size && ns % size === 0) return `${ns / size}${unit}`;
  return `${ns}ns`;
}
