import type { SchedCore } from './host-core';
import { yieldTask } from './host-yield';
import { Cpu, Ev, Task } from './task';
import { Leave } from './trace';

/**
 * The cover letter's solution (b), preemption-avoidance hints, on the host side: a vCPU whose
 * guest flags it as holding a spinlock has a tick or wakeup preemption deferred, once, by at
 * most `hintMaxDeferNs`; then it is preempted anyway, and on release it yields what it kept.
 */

/**
 * Whether the preemption of `c`'s running task is deferred. A flagged task gets one deferral (a
 * DeferEnd event preempts it then if it still should be); while it lasts every preemption is
 * deferred.
 */
export function defers(h: SchedCore, c: Cpu): boolean {
  const t = c.curr;
  if (!h.cfg.preemptHints || t === null) return false;
  if (t.deferUntilNs >= 0) return h.now < t.deferUntilNs;
  if (!h.listener.hinted(t)) return false;
  t.deferUntilNs = h.now + h.cfg.hintMaxDeferNs;
  h.hints.granted += 1;
  c.deferVersion += 1;
  h.queue.push(t.deferUntilNs, Ev.DeferEnd, c.id, c.deferVersion);
  return true;
}

/** A deferral's bound ran out: if its task still runs flagged, it is preempted anyway. */
export function deferEnd(h: SchedCore, cpuId: number, version: number): void {
  const c = h.cpus[cpuId];
  const t = c.curr;
  if (version !== c.deferVersion || t === null || t.deferUntilNs < 0) return;
  t.deferUntilNs = -1;
  if (!h.listener.hinted(t)) return;
  h.hints.expired += 1;
  h.resched(c, Leave.Tick);
}

/**
 * A vCPU that was granted a deferral released its lock; it yields the pCPU it kept
 * (`sched_yield`) so that the task it held off runs. Returns whether it had one.
 */
export function releasedHint(h: SchedCore, t: Task): boolean {
  if (t.deferUntilNs < 0) return false;
  t.deferUntilNs = -1;
  h.hints.yields += 1;
  yieldTask(h, t);
  return true;
}
