import { createDir, createEventFile, DirNode } from '../debugfs/nodes';
import { Q, QStats } from '../sim/qstats';

/**
 * The counter files of 4.5+ `qlockstat/` (kernel/locking/qspinlock_stat.h), in the kernel's order,
 * which is also `Q`'s: the simulation counts, this module names and formats.
 */
const QSTAT_FILE = {
  [Q.HashHops]: 'pv_hash_hops',
  [Q.KickUnlock]: 'pv_kick_unlock',
  [Q.KickWake]: 'pv_kick_wake',
  [Q.LatencyKick]: 'pv_latency_kick',
  [Q.LatencyWake]: 'pv_latency_wake',
  [Q.LockStealing]: 'pv_lock_stealing',
  [Q.SpuriousWakeup]: 'pv_spurious_wakeup',
  [Q.WaitAgain]: 'pv_wait_again',
  [Q.WaitEarly]: 'pv_wait_early',
  [Q.WaitHead]: 'pv_wait_head',
  [Q.WaitNode]: 'pv_wait_node',
  [Q.LockPending]: 'lock_pending',
  [Q.LockSlowpath]: 'lock_slowpath',
} as const satisfies Record<Q, string>;
/** The counter files in the kernel's order (`Q`'s; the compiler checks every counter has one). */
export const QSTAT_NAMES: readonly (typeof QSTAT_FILE)[Q][] = Object.values(QSTAT_FILE);
/** A counter file's name. */
export type QStatName = (typeof QSTAT_NAMES)[number];

/** `DIV_ROUND_CLOSEST_ULL` for non-negative values: (x + d/2) / d. */
function divRoundClosest(x: bigint, d: bigint): bigint {
  return (x + d / 2n) / d;
}

/**
 * The text a read of counter `name` returns, computed afresh at every read (`qstat_read`):
 * `"%llu\n"`; the two latencies are averages rounded to the nearest ns
 * (`DIV_ROUND_CLOSEST_ULL`), and `pv_hash_hops` is hops per unlock kick as `"%llu.%02llu\n"`,
 * whose fraction is the remainder scaled by 100 and rounded — so a remainder that rounds up to 100
 * prints as ".100", like the kernel's.
 */
export function qstatText(q: QStats, name: QStatName): string {
  const i = QSTAT_NAMES.indexOf(name) as Q;
  const stat = BigInt(q.count[i]);
  if (i === Q.HashHops) {
    const kicks = BigInt(q.count[Q.KickUnlock]);
    if (kicks === 0n) return `${stat}.00\n`;
    const frac = divRoundClosest(100n * (stat % kicks), kicks);
    return `${stat / kicks}.${frac.toString().padStart(2, '0')}\n`;
  }
  if (i === Q.LatencyKick || i === Q.LatencyWake) {
    const kicks = BigInt(q.count[i === Q.LatencyKick ? Q.KickUnlock : Q.KickWake]);
    return `${kicks === 0n ? stat : divRoundClosest(stat, kicks)}\n`;
  }
  return `${stat}\n`;
}

/**
 * The 4.5+ `qlockstat/`: counter files 0400 summed at every read, `reset_counters` 0200 whose
 * read fails with EBADF and whose write (any content) clears every counter.
 */
export function buildQlockstat(root: DirNode, q: QStats, nowMs: number): void {
  const d = createDir('qlockstat', root, nowMs);
  for (const name of QSTAT_NAMES)
    createEventFile(name, 0o400, d, () => qstatText(q, name), null, nowMs);
  createEventFile('reset_counters', 0o200, d, null, () => q.reset(), nowMs);
}
