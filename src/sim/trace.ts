import type { Cpu, Task } from './task';
import type { GuestLock, Vcpu } from './vcpu';

/** Why a task left its pCPU (the reason a timeline shows at the end of its stint). */
export const enum Leave {
  /** The scheduler tick found the slice used up (`check_preempt_tick`). */
  Tick = 0,
  /** A woken task preempted it (`check_preempt_wakeup`). */
  Wakeup = 1,
  /** A task pulled over by the load balancer preempted it. */
  Balance = 2,
  /** It called `sched_yield` (the yield hypercall, a pause-loop exit's yield). */
  Yield = 3,
  /** Another vCPU's directed yield (`yield_to`) put its target in its place. */
  DirectedYield = 4,
  /** It went to sleep: a halt, a block in a slow path, host work done. */
  Sleep = 5,
  /** It was removed (a hog taken away). */
  Exit = 6,
}

/** Names of `Leave` (the compiler checks every reason has one). */
export const LEAVE_NAMES = {
  [Leave.Tick]: 'tick preemption',
  [Leave.Wakeup]: 'wakeup preemption',
  [Leave.Balance]: 'balance preemption',
  [Leave.Yield]: 'yield',
  [Leave.DirectedYield]: 'directed yield',
  [Leave.Sleep]: 'sleep',
  [Leave.Exit]: 'exit',
} as const satisfies Record<Leave, string>;

/** Moments a timeline marks. */
export const enum Mark {
  /** A vCPU holding a lock was descheduled (counted as host_preemptions_of_holders). */
  HolderPreempted = 0,
  /** A ticket was handed to a waiter that was not running (grants_to_preempted_waiters). */
  GrantToPreempted = 1,
  /** An unlocker kicked a halted or blocked waiter. */
  Kick = 2,
  /** A spinner's pause-loop exit. */
  PleExit = 3,
  /** A spinner's directed yield at a preempted sibling. */
  DirectedYield = 4,
  /** A lock holder sent a TLB shootdown and waits for every target (tlb_shootdowns_under_lock). */
  Shootdown = 5,
  /** A shadow-page fault flushed the other vCPUs' TLBs, forcing them out (remote_tlb_flushes). */
  RemoteFlush = 6,
}

/**
 * What the simulation tells an attached tracer, at the instant it happens (the tracer reads the
 * clock itself). Every call sits behind a null check, so a machine without a tracer pays one
 * comparison per site and its results do not depend on whether one was ever attached: a tracer
 * only reads.
 */
export interface SimTracer {
  /** `prev` (if any) left `cpu` for `why`; `next` (if any) runs there now. */
  switched(cpu: Cpu, prev: Task | null, next: Task | null, why: Leave): void;
  /** The number of tasks on `cpu` (running or queued) may have changed. */
  queued(cpu: Cpu): void;
  /** A vCPU's activity, its lock or its host state may have changed. */
  vcpu(v: Vcpu): void;
  /** `lock` now belongs to vCPU `v` (`granted`: handed over while `v` was not running). */
  held(lock: GuestLock, v: number, granted: boolean): void;
  /** vCPU `v` released `lock`. */
  released(lock: GuestLock, v: number): void;
  /** `lock`'s waiter count changed. */
  waiters(lock: GuestLock): void;
  /** Something happened to vCPU `v` (`other`: the index of the vCPU it names in v's guest, or −1). */
  mark(m: Mark, v: Vcpu, other: number): void;
}
