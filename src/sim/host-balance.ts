import { findPullable, leftmost, removeFrom } from './balance';
import { updateShares, weightedSlice } from './host-groups';
import { defers } from './host-hints';
import type { SchedCore } from './host-core';
import { Cpu, Ev, Task } from './task';
import { Leave } from './trace';

/** The host's tick and load balancing: which task moves where is chosen by `findPullable` (balance.ts). */

/** An idle pCPU pulls a queued task it may run, from the busiest queue (same package first). */
export function idleBalance(h: SchedCore, c: Cpu): void {
  if (!h.cfg.loadBalance) return;
  const t = findPullable(h.cpus, c, 1, false, h.now, h.cfg.migrationCostNs);
  if (t) {
    migrate(h, t, c);
    if (c.curr === null) h.switchTo(c, t, Leave.Balance);
  }
}

/** Periodic balance: pull one cache-cold task when the busiest queue has ≥ 2 more tasks. */
export function periodicBalance(h: SchedCore, c: Cpu): void {
  const t = findPullable(h.cpus, c, c.nrRunning + 2, true, h.now, h.cfg.migrationCostNs);
  if (!t) return;
  migrate(h, t, c);
  h.updateCurr(c);
  if (c.curr && c.curr.vruntime - t.vruntime > h.cfg.wakeupGranularityNs)
    h.resched(c, Leave.Balance);
}

function migrate(h: SchedCore, t: Task, dst: Cpu): void {
  const src = h.cpus[t.cpu];
  removeFrom(src.rq, t);
  h.updateCurr(dst);
  t.vruntime = t.vruntime - src.minVruntime + dst.minVruntime;
  t.cpu = dst.id;
  t.migrations += 1;
  dst.rq.push(t);
  if (h.tracer !== null) {
    h.tracer.queued(src);
    h.tracer.queued(dst);
  }
}

/** The scheduler tick on one pCPU: slice check (deferred by a hint), then load balancing. */
export function tick(h: SchedCore, cpuId: number): void {
  const c = h.cpus[cpuId];
  if (h.groups !== null && cpuId === 0) updateShares(h);
  h.updateCurr(c);
  const curr = c.curr;
  if (curr && c.rq.length > 0) {
    const slice = h.groups === null ? h.sliceNs(c.nrRunning) : weightedSlice(h, c, curr);
    const ran = h.now - curr.execStartNs;
    if (ran > slice) {
      if (!defers(h, c)) h.resched(c, Leave.Tick);
    } else if (ran > h.cfg.minGranularityNs) {
      const left = leftmost(c.rq);
      if (left && curr.vruntime - left.vruntime > slice && !defers(h, c)) h.resched(c, Leave.Tick);
    }
  }
  c.tickCount += 1;
  if (h.cfg.loadBalance) {
    if (c.curr === null) idleBalance(h, c);
    else if (c.tickCount % h.cfg.balanceTicks === 0) periodicBalance(h, c);
  }
  h.queue.push(h.now + h.cfg.tickNs, Ev.Tick, cpuId, 0);
}
