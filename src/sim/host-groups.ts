import type { SchedCore } from './host-core';
import { Cpu, NICE_0_LOAD, Task, TaskState } from './task';

/**
 * CFS group scheduling as 2.6.35 has it, for a host with several guests (its groups; with one
 * guest the host never calls these): weights from each group's shares, weighted slices and
 * wakeup granularity, and Srivatsa's reclaim of a yielded slice.
 */

/**
 * Srivatsa's reclaim: a task that yielded gets the slice time it gave up as virtual-time credit
 * when it runs again (never more than one scheduling latency behind the queue).
 */
export function reclaim(h: SchedCore, c: Cpu, t: Task): void {
  const credit = h.groups === null ? t.yieldBonusNs : (t.yieldBonusNs * NICE_0_LOAD) / t.weight;
  t.vruntime = Math.max(c.minVruntime - h.cfg.latencyNs, t.vruntime - credit);
  t.yieldBonusNs = 0;
}

/** 2.6.35 `wakeup_gran`: the granularity in the woken task's virtual time. */
export function wakeupGran(h: SchedCore, t: Task): number {
  const g = h.cfg.wakeupGranularityNs;
  return h.groups === null ? g : (g * NICE_0_LOAD) / t.weight;
}

/** `t`'s share of the scheduling period on `c`, by its weight among the tasks there. */
export function weightedSlice(h: SchedCore, c: Cpu, t: Task): number {
  let total = c.curr ? c.curr.weight : 0;
  for (const o of c.rq) total += o.weight;
  const n = Math.max(1, c.nrRunning);
  const nrLatency = Math.max(1, Math.floor(h.cfg.latencyNs / h.cfg.minGranularityNs));
  const period = n <= nrLatency ? h.cfg.latencyNs : h.cfg.minGranularityNs * n;
  return Math.floor((period * t.weight) / Math.max(1, total));
}

/**
 * 2.6.35's `update_shares` (rate-limited, here once a tick): a group's shares are split evenly
 * among its runnable tasks wherever they run (at least MIN_SHARES = 2 each); host work stays at
 * the root with a nice-0 weight. Every pCPU is charged at the old weights first.
 */
export function updateShares(h: SchedCore): void {
  if (h.groups === null) return;
  for (const c of h.cpus) h.updateCurr(c);
  for (const g of h.groups) {
    let n = 0;
    for (const t of g.tasks)
      if (t.state === TaskState.Running || t.state === TaskState.Runnable) n += 1;
    const w = Math.max(2, g.shares / Math.max(1, n));
    for (const t of g.tasks) t.weight = w;
  }
}
