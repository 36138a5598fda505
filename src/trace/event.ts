import type { Doing } from '../sim/acts';
import type { TaskKind } from '../sim/task';
import type { Leave, Mark } from '../sim/trace';

// The kinds a timeline's events carry, for whoever draws or names them.
export { Doing } from '../sim/acts';
export { TaskKind } from '../sim/task';
export { Leave, Mark } from '../sim/trace';

/** Who runs on a pCPU: the task's kind, its guest (vCPUs) and its number. */
export interface TaskShown {
  kind: TaskKind;
  guest: number;
  index: number;
}

/** A vCPU's state as the timeline shows it: what it does, on which lock (or −1), preempted or not. */
export interface VcpuShown {
  doing: Doing;
  /** The lock it is on, for the states that name one; −1 otherwise. */
  lock: number;
  /** Runnable but not running: the host preempted it. */
  preempted: boolean;
}

/** Why a task left its pCPU: the scheduler's reason, or for a vCPU that went to sleep, how. */
export type LeftShown = Leave | 'halt' | 'block';

/**
 * One timeline event, typed: what happened to which track, with kinds and ids and no words. The
 * sinks that write something a person reads (the JSON trace, the SVG) name things themselves.
 * `ts` is simulated time, ns.
 */
export type TimelineEvent =
  /** A track's name or place (the Trace Event Format's metadata). */
  | {
      kind: 'meta';
      name: 'process_name' | 'process_sort_index' | 'thread_name' | 'thread_sort_index';
      pid: number;
      tid: number;
      value: string | number;
    }
  | { kind: 'cpu-begin'; ts: number; cpu: number; task: TaskShown }
  /** A task's stint on a pCPU ends (`left`: why; absent where the window closes it). */
  | { kind: 'cpu-end'; ts: number; cpu: number; task: TaskShown; left?: LeftShown }
  | { kind: 'vcpu-begin' | 'vcpu-end'; ts: number; guest: number; vcpu: number; state: VcpuShown }
  /** A lock hold (an async span, `id` its number); `when`: begun before / ended after the window. */
  | {
      kind: 'hold-begin' | 'hold-end';
      ts: number;
      guest: number;
      lock: number;
      vcpu: number;
      id: number;
      granted?: boolean;
      when?: 'before' | 'after';
    }
  | { kind: 'mark'; ts: number; mark: Mark; guest: number; vcpu: number; lock: number; to: number }
  | { kind: 'knob'; ts: number; file: string; value: bigint | null }
  | { kind: 'runnable'; ts: number; cpu: number; tasks: number }
  | { kind: 'waiters'; ts: number; guest: number; lock: number; vcpus: number };

/** Where a recorder's events go. */
export interface TraceSink {
  /** Takes one event; events arrive in time order (metadata first). */
  event(e: TimelineEvent): void;
  /** True once the sink has reached its limit: the recorder closes what is open and stops. */
  readonly full: boolean;
}

/** The process ids of the timeline: the host's pCPUs, the guests' vCPUs (guest g: GUEST_PID + g). */
export const HOST_PID = 1;
export const GUEST_PID = 2;
