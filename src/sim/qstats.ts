/**
 * The pv qspinlock's event counters as `CONFIG_QUEUED_LOCK_STAT` keeps them (Linux 4.5+,
 * `<debugfs>/qlockstat/`): per-CPU `unsigned long` counters that are summed when read. The model
 * keeps the sums; they stay exact integers below 2^53.
 */

/** The counters in the kernel's order (also the files' creation order). */
export const QSTAT_NAMES = [
  'pv_hash_hops',
  'pv_kick_unlock',
  'pv_kick_wake',
  'pv_latency_kick',
  'pv_latency_wake',
  'pv_lock_stealing',
  'pv_spurious_wakeup',
  'pv_wait_again',
  'pv_wait_early',
  'pv_wait_head',
  'pv_wait_node',
  'lock_pending',
  'lock_slowpath',
] as const;
/** A counter's name. */
export type QStatName = (typeof QSTAT_NAMES)[number];

/** Indices into `QStats.count`, in `QSTAT_NAMES` order. */
export const enum Q {
  HashHops = 0,
  KickUnlock = 1,
  KickWake = 2,
  LatencyKick = 3,
  LatencyWake = 4,
  LockStealing = 5,
  SpuriousWakeup = 6,
  WaitAgain = 7,
  WaitEarly = 8,
  WaitHead = 9,
  WaitNode = 10,
  LockPending = 11,
  LockSlowpath = 12,
}

/** The summed counters; `reset()` is what a write to `reset_counters` does. */
export class QStats {
  readonly count = new Float64Array(QSTAT_NAMES.length);

  add(which: Q, n = 1): void {
    this.count[which] += n;
  }

  reset(): void {
    this.count.fill(0);
  }

  /**
   * The text a read of counter `name` returns, computed afresh at every read: `"%llu\n"`; the
   * two latencies are averages rounded to the nearest ns (`DIV_ROUND_CLOSEST_ULL`), and
   * `pv_hash_hops` is hops per unlock kick as `"%llu.%02llu\n"`, whose fraction is the remainder
   * scaled by 100 and rounded — so a remainder that rounds up to 100 prints as ".100", like the
   * kernel's.
   */
  text(name: QStatName): string {
    const i = QSTAT_NAMES.indexOf(name);
    const stat = BigInt(this.count[i]);
    if (i === Q.HashHops) {
      const kicks = BigInt(this.count[Q.KickUnlock]);
      if (kicks === 0n) return `${stat}.00\n`;
      const frac = divRoundClosest(100n * (stat % kicks), kicks);
      return `${stat / kicks}.${frac.toString().padStart(2, '0')}\n`;
    }
    if (i === Q.LatencyKick || i === Q.LatencyWake) {
      const kicks = BigInt(this.count[i === Q.LatencyKick ? Q.KickUnlock : Q.KickWake]);
      return `${kicks === 0n ? stat : divRoundClosest(stat, kicks)}\n`;
    }
    return `${stat}\n`;
  }
}

/** `DIV_ROUND_CLOSEST_ULL` for non-negative values: (x + d/2) / d. */
function divRoundClosest(x: bigint, d: bigint): bigint {
  return (x + d / 2n) / d;
}
