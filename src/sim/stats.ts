/**
 * The statistics block of the RFC's pv spinlock (patch 3/4, modelled on Xen's 2.6.35
 * arch/x86/xen/spinlock.c): counters, u32-truncated nanosecond times and three 31-bucket log2
 * histograms, with the lazy `zero_stats` reset. Widths wrap like C because the cells live in
 * typed arrays of those widths.
 */

/** Number of histogram buckets: 30 ilog2 buckets plus one overflow bucket. */
export const HISTO_BUCKETS = 31;
/** Index of the overflow bucket (also where delta == 0 lands, see `histoBucket`). */
export const HISTO_OVERFLOW = HISTO_BUCKETS - 1;

/** The u64 cells, in one BigUint64Array. */
export const enum U64 {
  Taken = 0,
  Released = 1,
  TimeSpinning = 2,
  TimeBlocked = 3,
  TimeTotal = 4,
}
const U64_CELLS = 5;

/**
 * The slow-path u32 counters of the later layouts, indices into `slowCounts`: the 3.12 pv
 * ticketlock keeps the first three, Xen 2.6.35 all six.
 */
export const enum SlowCount {
  Pickup = 0,
  Released = 1,
  Kicked = 2,
  Nested = 3,
  Spurious = 4,
  IrqEnable = 5,
}
const SLOW_COUNTS = 6;

/** The three histograms. */
export const enum Histo {
  Total = 0,
  Spinning = 1,
  Blocked = 2,
}

const TWO32 = 4294967296;
// A float accumulator stays exact below 2^53; flush well before that.
const FLUSH_AT = 2 ** 52;

/**
 * Bucket of a sample, as the kernel's `ilog2(delta)` stored in an unsigned index: bucket i holds
 * [2^i, 2^(i+1)) ns, anything ≥ 2^30 goes to the overflow bucket, and delta == 0 (ilog2 = -1,
 * i.e. 0xFFFFFFFF as an index) also lands in the overflow bucket.
 */
export function histoBucket(deltaU32: number): number {
  if (deltaU32 === 0) return HISTO_OVERFLOW;
  const log = 31 - Math.clz32(deltaU32);
  return log >= HISTO_OVERFLOW ? HISTO_OVERFLOW : log;
}

/** The pv lock's statistics and its two knobs, exactly as the guest kernel keeps them. */
export class PvStats {
  /** `zero_stats`: u8, written by the user, cleared by the next update. */
  readonly zeroStats = new Uint8Array(1);
  /** `timeout`: u32 spin count before the yield hypercall; not part of the reset. */
  readonly timeout = new Uint32Array(1);
  /** `taken_slow`: u32. */
  readonly takenSlow = new Uint32Array(1);
  /** u32 `taken_slow_pickup`, `released_slow`, `released_slow_kicked` (3.12 and Xen) and Xen's `taken_slow_nested`, `_spurious`, `_irqenable`. */
  readonly slowCounts = new Uint32Array(SLOW_COUNTS);
  /** The three histograms, 31 u32 buckets each. */
  readonly histo: readonly Uint32Array[] = [
    new Uint32Array(HISTO_BUCKETS),
    new Uint32Array(HISTO_BUCKETS),
    new Uint32Array(HISTO_BUCKETS),
  ];
  private readonly u64 = new BigUint64Array(U64_CELLS);
  // Pending increments kept as exact floats so the hot path avoids BigInt; folded into `u64`
  // (which wraps modulo 2^64) on every read and before they could lose precision.
  private readonly pending = new Float64Array(U64_CELLS);

  /** Creates the block with the kernel's boot values (timeout 1 << 10). */
  constructor(timeout = 1 << 10) {
    this.timeout[0] = timeout;
  }

  /** Reads a u64 cell as the kernel variable holds it. */
  getU64(cell: U64): bigint {
    this.flush(cell);
    return this.u64[cell];
  }

  /** Mirrors `check_zero()`: a nonzero `zero_stats` clears every statistic, then itself. */
  checkZero(): void {
    // Small enough to be compiled into every statistic's update; the clearing is out of line.
    if (this.zeroStats[0] !== 0) this.clear();
  }

  /**
   * Every statistic to 0 at once (a fault injected from outside: unlike `zero_stats`, no update
   * of the guest is needed, and the knobs are left as they are).
   */
  resetAll(): void {
    const z = this.zeroStats[0];
    this.clear();
    this.zeroStats[0] = z;
  }

  /**
   * Every u32 counter and histogram bucket `k` increments before 2^32, every u64 `k` before 2^64
   * (a fault injected from outside: the next increments wrap as the kernel's variables do).
   */
  nearWrap(k: number): void {
    const u32 = (2 ** 32 - k) >>> 0;
    this.takenSlow[0] = u32;
    this.slowCounts.fill(u32);
    for (const h of this.histo) h.fill(u32);
    this.pending.fill(0);
    this.u64.fill(2n ** 64n - BigInt(k));
  }

  private clear(): void {
    this.u64.fill(0n);
    this.pending.fill(0);
    this.takenSlow[0] = 0;
    this.slowCounts.fill(0);
    for (const h of this.histo) h.fill(0);
    this.zeroStats[0] = 0;
  }

  /** `ADD_STATS(taken, 1)`. */
  addTaken(): void {
    this.checkZero();
    this.add(U64.Taken, 1);
  }

  /** `ADD_STATS(released, 1)`. */
  addReleased(): void {
    this.checkZero();
    this.add(U64.Released, 1);
  }

  /** `ADD_STATS(taken_slow, 1)` (u32, wraps). */
  addTakenSlow(): void {
    this.checkZero();
    this.takenSlow[0] += 1;
  }

  /** `ADD_STATS` / 3.12 `add_stats` of one slow-path counter (u32, wraps). */
  addSlowCount(which: SlowCount): void {
    this.checkZero();
    this.slowCounts[which] += 1;
  }

  /**
   * Mirrors `__spin_time_accum` for one sample: the delta is truncated to u32 ns, added to the
   * time counter and counted in its ilog2 bucket.
   */
  addSample(which: Histo, deltaNs: number): void {
    this.checkZero();
    // The remainder only where it changes the value: on a double it is a call into the C library.
    const delta = deltaNs >= 0 && deltaNs < TWO32 ? deltaNs : deltaNs % TWO32;
    const cell =
      which === Histo.Total
        ? U64.TimeTotal
        : which === Histo.Spinning
          ? U64.TimeSpinning
          : U64.TimeBlocked;
    this.add(cell, delta);
    this.histo[which][histoBucket(delta)] += 1;
  }

  private add(cell: U64, v: number): void {
    const p = this.pending[cell] + v;
    this.pending[cell] = p;
    if (p >= FLUSH_AT) this.flush(cell);
  }

  private flush(cell: U64): void {
    const p = this.pending[cell];
    if (p === 0) return;
    this.u64[cell] += BigInt(p);
    this.pending[cell] = 0;
  }
}
