/**
 * The pv qspinlock's event counters as `CONFIG_QUEUED_LOCK_STAT` keeps them (Linux 4.5+,
 * `<debugfs>/qlockstat/`): per-CPU `unsigned long` counters that are summed when read. The model
 * keeps the sums; they stay exact integers below 2^53.
 */

/** Indices into `QStats.count`: the kernel's counters in its order (the layout names them). */
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

/** How many counters there are. */
export const Q_COUNT = 13;

/** The summed counters; `reset()` is what a write to `reset_counters` does. */
export class QStats {
  readonly count = new Float64Array(Q_COUNT);

  /** Counts `n` more of `which`. */
  add(which: Q, n = 1): void {
    this.count[which] += n;
  }

  /** Clears every counter. */
  reset(): void {
    this.count.fill(0);
  }
}
