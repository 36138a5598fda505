import { assert } from './assert';
import { leftmost, removeFrom } from './balance';
import { idleBalance } from './host-balance';
import type { SchedCore } from './host-core';
import { Leave } from './trace';
import { Task, TaskKind, TaskState } from './task';

/*
 * The host's tasks as things that exist and sleep on timers: made, brought back, their timers
 * armed and checked. Which task runs where is the scheduler's (host.ts).
 */

/** Creates a sleeping task on `cpu`, the next of `tasks`. */
export function addTask(
  tasks: Task[],
  kind: TaskKind,
  index: number,
  allowed: Uint8Array,
  cpu: number,
): Task {
  assert(allowed[cpu] === 1, `task placed on a pCPU it may not use`);
  const t = new Task(tasks.length, kind, index, allowed, cpu);
  t.state = TaskState.Sleeping;
  tasks.push(t);
  return t;
}

/**
 * Brings a dead task back as a fresh sleeping task on `cpu` (same id, same allowed pCPUs; its
 * timer and wake versions keep counting, so events of its earlier life stay stale). Its running
 * time keeps accumulating, as if the two lives were one task.
 */
export function reviveTask(t: Task, cpu: number): Task {
  assert(t.state === TaskState.Dead, `task ${t.id} revived while not dead`);
  assert(t.allowed[cpu] === 1, `task placed on a pCPU it may not use`);
  t.cpu = cpu;
  t.state = TaskState.Sleeping;
  t.vruntime = 0;
  t.execStartNs = 0;
  t.lastUpdateNs = 0;
  t.lastRanNs = -Infinity;
  t.timerArmed = false;
  t.resumeAtNs = 0;
  return t;
}

/** The valid task for a timer event, or null if the event is stale. */
export function timerTask(tasks: readonly Task[], id: number, version: number): Task | null {
  const t = tasks[id];
  if (!t.timerArmed || t.timerVersion !== version || t.state !== TaskState.Running) return null;
  t.timerArmed = false;
  return t;
}

/** Makes a new task runnable (new tasks start one slice behind: START_DEBIT). */
export function startTask(h: SchedCore, t: Task): void {
  const c = h.cpus[t.cpu];
  h.updateCurr(c);
  t.vruntime = h.now === 0 ? 0 : c.minVruntime + h.sliceNs(c.nrRunning + 1);
  t.state = TaskState.Runnable;
  c.rq.push(t);
  if (h.tracer !== null) h.tracer.queued(c);
  if (c.curr === null) h.switchTo(c, t, Leave.Wakeup);
}

/** Removes a task for good (used when hogs are taken away). */
export function killTask(h: SchedCore, t: Task): void {
  const c = h.cpus[t.cpu];
  if (t.state === TaskState.Running) {
    h.updateCurr(c);
    t.state = TaskState.Dead;
    h.switchTo(c, leftmost(c.rq), Leave.Exit);
    if (c.curr === null) idleBalance(h, c);
  } else if (t.state === TaskState.Runnable) {
    removeFrom(c.rq, t);
    if (h.tracer !== null) h.tracer.queued(c);
  }
  t.state = TaskState.Dead;
  t.timerArmed = false;
  t.timerVersion += 1;
  t.wakeVersion += 1;
}
