/**
 * Measurements the debugfs files do not carry but experiments need: lock-wait distribution,
 * convoy episodes, per-vCPU time split. Deterministic and allocation-free on the hot path.
 */

import { doubleFields } from './doubles';

const SUB = 8; // sub-buckets per power of two: ≤ 12.5 % relative error on percentiles
const LAT_BUCKETS = 64 * SUB;

/** Log-linear histogram of nanosecond durations, for p50/p99 and an exact max. */
export class LatencyHisto {
  private readonly counts = new Float64Array(LAT_BUCKETS);
  count = 0;
  maxNs = 0;
  sumNs = 0;

  constructor() {
    doubleFields(this, ['maxNs', 'sumNs']);
  }

  /** Adds one duration. */
  add(ns: number): void {
    this.counts[LatencyHisto.bucket(ns)] += 1;
    this.count += 1;
    this.sumNs += ns;
    if (ns > this.maxNs) this.maxNs = ns;
  }

  /** One histogram of every duration the given ones hold (exact: the counts and sums are whole numbers). */
  static merged(parts: readonly LatencyHisto[]): LatencyHisto {
    const m = new LatencyHisto();
    for (const p of parts) {
      for (let i = 0; i < LAT_BUCKETS; i++) m.counts[i] += p.counts[i];
      m.count += p.count;
      m.sumNs += p.sumNs;
      if (p.maxNs > m.maxNs) m.maxNs = p.maxNs;
    }
    return m;
  }

  /** Upper bound of the bucket holding quantile `q` (0..1), 0 when empty. */
  quantileNs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < LAT_BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.maxNs, LatencyHisto.upper(i));
    }
    return this.maxNs;
  }

  /** Bucket index of a duration (integer ns; the top 3 bits below the leading one pick the sub-bucket). */
  static bucket(ns: number): number {
    if (ns < SUB) return Math.max(0, Math.floor(ns));
    if (ns < 4294967296) {
      const log = 31 - Math.clz32(ns);
      return (log - 2) * SUB + ((ns >>> (log - 3)) & (SUB - 1));
    }
    const log = Math.floor(Math.log2(ns));
    const sub = Math.min(SUB - 1, Math.floor(((ns - 2 ** log) / 2 ** log) * SUB));
    return Math.min(LAT_BUCKETS - 1, (log - 2) * SUB + sub);
  }

  /** Largest duration that maps to bucket `i`. */
  static upper(i: number): number {
    if (i < SUB) return i;
    const log = Math.floor(i / SUB) + 2;
    const sub = i % SUB;
    const base = 2 ** log;
    return Math.ceil(base + ((sub + 1) * base) / SUB) - 1;
  }
}

/**
 * Convoy episodes, per lock: an episode starts when at least `minWaiters` vCPUs wait for one lock
 * and ends when no vCPU waits for it any more. Each lock keeps its own start time.
 */
export class ConvoyTracker {
  episodes = 0;
  closed = 0;
  totalNs = 0;
  maxNs = 0;

  constructor(readonly minWaiters: number) {
    doubleFields(this, ['totalNs', 'maxNs']);
  }

  /** Given a lock's convoy start (-1: none) and its new waiter count, returns the new start. */
  update(sinceNs: number, waiting: number, nowNs: number): number {
    if (sinceNs < 0) {
      if (waiting < this.minWaiters) return -1;
      this.episodes += 1;
      return nowNs;
    }
    if (waiting > 0) return sinceNs;
    const len = nowNs - sinceNs;
    this.closed += 1;
    this.totalNs += len;
    if (len > this.maxNs) this.maxNs = len;
    return -1;
  }
}

/** Where a vCPU's wall time goes. */
export const enum Cat {
  Run = 0,
  Spin = 1,
  Yield = 2,
  Halt = 3,
  Wait = 4,
}
/** JSON name of each category (the compiler checks every category has one). */
const CAT_NAME = {
  [Cat.Run]: 'running_ns',
  [Cat.Spin]: 'spinning_ns',
  [Cat.Yield]: 'blocked_in_yield_ns',
  [Cat.Halt]: 'halted_ns',
  [Cat.Wait]: 'runnable_waiting_ns',
} as const satisfies Record<Cat, string>;
/** JSON names of the categories, in `Cat` order. */
export const CAT_NAMES: readonly (typeof CAT_NAME)[Cat][] = Object.values(CAT_NAME);
/** Number of categories in `Cat`. */
export const CAT_COUNT = CAT_NAMES.length;
