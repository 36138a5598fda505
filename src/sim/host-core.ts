import type { SimConfig } from './config';
import type { EventQueue } from './queue';
import type { Cpu, HostListener, Task } from './task';
import type { Leave, SimTracer } from './trace';

/** A scheduling group (several guests: one per VM, and one for the hogs). */
export interface Group {
  shares: number;
  tasks: Task[];
}

/** Solution (b)'s counts: preemptions deferred, deferrals that ran out, yields on release. */
export interface HintCounts {
  granted: number;
  expired: number;
  yields: number;
}

/**
 * What the scheduler's own files (host-balance, host-yield, host-groups, host-hints) see of it:
 * its internals, which the rest of the simulation does not. Every switch takes the reason the
 * task leaving its pCPU leaves for, from whoever asks for it.
 */
export interface SchedCore {
  readonly cfg: SimConfig;
  readonly cpus: readonly Cpu[];
  readonly queue: EventQueue;
  readonly listener: HostListener;
  readonly groups: readonly Group[] | null;
  readonly hints: HintCounts;
  readonly tracer: SimTracer | null;
  readonly now: number;
  /** Charges the running task of `c` and advances `c`'s min_vruntime (`update_curr`). */
  updateCurr(c: Cpu): void;
  /** Re-picks the task to run on `c` (the running task leaves for `why` if another is picked). */
  resched(c: Cpu, why: Leave): void;
  /** Makes `next` the running task of `c`; the one running leaves for `why`. */
  switchTo(c: Cpu, next: Task | null, why: Leave): void;
  /** The slice of a pCPU with `nr` tasks. */
  sliceNs(nr: number): number;
  /** A directed yield was honoured. */
  honoured(): void;
}

/** The host's private operations, as `makeCore` takes them. */
export interface CoreOps {
  now(): number;
  groups(): Group[] | null;
  updateCurr(c: Cpu): void;
  resched(c: Cpu, why: Leave): void;
  switchTo(c: Cpu, next: Task | null, why: Leave): void;
  honoured(): void;
}

/** The core a host gives its own files: its parts, and its private operations (`ops`). */
export function makeCore(
  host: {
    readonly cfg: SimConfig;
    readonly cpus: readonly Cpu[];
    readonly queue: EventQueue;
    readonly listener: HostListener;
    readonly tracer: SimTracer | null;
    sliceNs(nr: number): number;
  },
  hints: HintCounts,
  ops: CoreOps,
): SchedCore {
  return {
    cfg: host.cfg,
    cpus: host.cpus,
    queue: host.queue,
    listener: host.listener,
    hints,
    get groups() {
      return ops.groups();
    },
    get tracer() {
      return host.tracer;
    },
    get now() {
      return ops.now();
    },
    updateCurr: ops.updateCurr,
    resched: ops.resched,
    switchTo: ops.switchTo,
    sliceNs: (nr) => host.sliceNs(nr),
    honoured: ops.honoured,
  };
}
