import { assert, fail } from './assert';
import type { Cpu, Task } from './task';

/*
 * Run-queue helpers and the placement rules of the host scheduler (2.6.35 sched_fair.c,
 * simplified): which task runs next, where a waking task goes, which task an idle or periodic
 * balance may pull. The scheduler (host.ts) acts on their answers.
 */

/** Leftmost (smallest vruntime) queued task, the first inserted on ties. */
export function leftmost(rq: Task[]): Task | null {
  let best: Task | null = null;
  for (const t of rq) if (best === null || t.vruntime < best.vruntime) best = t;
  return best;
}

/** Takes `t` out of a run queue (it must be queued there). */
export function removeFrom(rq: Task[], t: Task): void {
  const i = rq.indexOf(t);
  if (!(i >= 0)) fail(`task ${t.id} not queued on its pCPU`);
  // The order of the others is kept (ties go to the first queued); no array of the removed one
  // is made, as `splice` would at every switch.
  for (let j = i + 1; j < rq.length; j++) rq[j - 1] = rq[j];
  rq.pop();
}

/** Wake placement (select_task_rq_fair, simplified): previous pCPU if idle, else an idle sibling. */
export function selectCpu(cpus: readonly Cpu[], t: Task): Cpu {
  const prev = cpus[t.cpu];
  if (t.allowed[prev.id] === 1 && prev.curr === null) return prev;
  for (const c of cpus)
    if (c.pkg === prev.pkg && t.allowed[c.id] === 1 && c.curr === null) return c;
  if (t.allowed[prev.id] === 1) return prev;
  for (const c of cpus) if (t.allowed[c.id] === 1) return c;
  assert(false, `task ${t.id} may run nowhere`);
}

/**
 * The task `dst` may pull: from the busiest queue with at least `minNr` tasks (same package first
 * on ties), the queued task it may run with the largest vruntime; with `coldOnly`, only one that
 * has not run for `migrationCostNs` (cache-cold).
 */
export function findPullable(
  cpus: readonly Cpu[],
  dst: Cpu,
  minNr: number,
  coldOnly: boolean,
  nowNs: number,
  migrationCostNs: number,
): Task | null {
  let best: Task | null = null;
  let bestNr = 0;
  let bestSamePkg = false;
  for (const src of cpus) {
    if (src === dst || src.rq.length === 0 || src.nrRunning < minNr) continue;
    const same = src.pkg === dst.pkg;
    const better = src.nrRunning > bestNr || (src.nrRunning === bestNr && same && !bestSamePkg);
    if (!better) continue;
    let pick: Task | null = null;
    for (const t of src.rq) {
      if (t.allowed[dst.id] !== 1) continue;
      if (coldOnly && nowNs - t.lastRanNs < migrationCostNs) continue;
      if (pick === null || t.vruntime > pick.vruntime) pick = t;
    }
    if (pick) {
      best = pick;
      bestNr = src.nrRunning;
      bestSamePkg = same;
    }
  }
  return best;
}
