import { assert } from './assert';
import { leftmost } from './balance';
import type { SchedCore } from './host-core';
import { Task, TaskState } from './task';
import { Leave } from './trace';

/**
 * Mirrors 2.6.35 `sys_sched_yield` → `yield_task_fair`: alone on the queue it returns at once;
 * otherwise the default keeps the yielder's vruntime and re-picks the leftmost task, compat
 * mode moves it behind the rightmost. Returns whether another task now runs.
 */
export function yieldTask(h: SchedCore, t: Task): boolean {
  const c = h.cpus[t.cpu];
  assert(c.curr === t, `only the running task can yield`);
  if (c.rq.length === 0) return false;
  h.updateCurr(c);
  if (h.cfg.compatYield) {
    let right = t.vruntime;
    for (const o of c.rq) right = Math.max(right, o.vruntime);
    t.vruntime = right + 1;
  }
  h.resched(c, Leave.Yield);
  const switched = c.curr !== t;
  // Srivatsa's reclaim: the rest of the slice given up is kept for when the task next runs.
  if (switched && h.cfg.yieldReclaim) {
    const left = h.sliceNs(c.nrRunning) - (h.now - t.execStartNs);
    t.yieldBonusNs = Math.min(h.cfg.latencyNs, t.yieldBonusNs + Math.max(0, left));
  }
  return switched;
}

/**
 * Mirrors 2.6.39 `yield_to(target, preempt)`: the target (runnable, not running) becomes its
 * queue's next buddy, picked only if within the wakeup granularity of the leftmost task; its
 * pCPU is rescheduled; the caller then yields (`yield_task_fair`). Returns whether the caller
 * stopped running.
 */
export function yieldToTask(h: SchedCore, caller: Task, target: Task): boolean {
  const tc = h.cpus[target.cpu];
  h.updateCurr(tc);
  const left = leftmost(tc.rq);
  const honoured =
    target.state === TaskState.Runnable &&
    left !== null &&
    target.vruntime - left.vruntime <= h.cfg.wakeupGranularityNs;
  if (honoured) {
    h.honoured();
    const curr = tc.curr;
    if (curr === caller) {
      // Same pCPU: the caller gives its pCPU to the target directly.
      caller.state = TaskState.Runnable;
      tc.rq.push(caller);
      h.switchTo(tc, target, Leave.Yield);
      return true;
    }
    if (curr && curr.state === TaskState.Running) {
      curr.state = TaskState.Runnable;
      tc.rq.push(curr);
    }
    h.switchTo(tc, target, Leave.DirectedYield);
  }
  return yieldTask(h, caller);
}
