import { Doing, doingOf, isWaiting } from '../sim/acts';
import type { Machine } from '../sim/machine';
import { Task, TaskKind, TaskState } from '../sim/task';
import { Leave } from '../sim/trace';
import { Act, Vcpu } from '../sim/vcpu';
import type { LeftShown, TaskShown, VcpuShown } from './event';

/* What a recorder shows of the simulation's objects: kinds and ids, no words. */

/** The guests' names a timeline shows (only when there are several). */
export function guestNames(m: Machine): readonly string[] {
  return m.multi ? m.names : [];
}

/** Who a task is, for a pCPU track. */
export function taskShown(t: Task): TaskShown {
  return { kind: t.kind, guest: t.owner, index: t.index };
}

/** A vCPU track's state: what its code does (and on which lock), and whether it is preempted. */
export function vcpuShown(v: Vcpu): VcpuShown | null {
  const s = v.task.state;
  if (s !== TaskState.Running && s !== TaskState.Sleeping && s !== TaskState.Runnable) return null;
  const doing = doingOf(v.act);
  const namesLock = doing === Doing.Yield || doing === Doing.Blocked || doing === Doing.Spin;
  return { doing, lock: namesLock ? v.lock : -1, preempted: s === TaskState.Runnable };
}

export function sameShown(a: VcpuShown | null, b: VcpuShown | null): boolean {
  if (a === null || b === null) return a === b;
  return a.doing === b.doing && a.lock === b.lock && a.preempted === b.preempted;
}

/** Why `t` left its pCPU (a vCPU's sleep: whether it halted or blocked on a lock). */
export function leftFor(t: Task, why: Leave, m: Machine): LeftShown {
  if (why !== Leave.Sleep || t.kind !== TaskKind.Vcpu) return why;
  const v = m.guests[t.owner].vcpus[t.index];
  if (v.act === Act.Halted) return 'halt';
  return isWaiting(v.act) ? 'block' : Leave.Sleep;
}
