import { doubleFields } from './doubles';

/** The load weight of a nice-0 task (2.6.35 `NICE_0_LOAD`). */
export const NICE_0_LOAD = 1024;

/** What a host task is. */
export const enum TaskKind {
  Vcpu = 0,
  Hog = 1,
  Noise = 2,
}

/** Host scheduler state of a task. */
export const enum TaskState {
  Running = 0,
  Runnable = 1,
  Sleeping = 2,
  Dead = 3,
}

/** Event kinds the host owns (the machine dispatches them). */
export const enum Ev {
  Timer = 0,
  Wake = 1,
  Tick = 2,
  /** A deferred preemption's bound ran out (solution (b)); target is the pCPU. */
  DeferEnd = 3,
}

/**
 * A host task (a vCPU thread, a CPU hog or host background work). Its timer counts *running*
 * time only: stopped when the task is descheduled, re-armed when it runs again.
 */
export class Task {
  vruntime = 0;
  state = TaskState.Runnable;
  execStartNs = 0;
  lastUpdateNs = 0;
  lastRanNs = -Infinity;
  timerArmed = false;
  timerEndNs = 0;
  timerRemainingNs = 0;
  timerVersion = 0;
  wakeVersion = 0;
  /** When guest code resumes after a dispatch (the context switch costs running time). */
  resumeAtNs = 0;
  migrations = 0;
  /** Running time accumulated over finished stints (see `Host.onCpuNs`). */
  onCpuTotalNs = 0;
  onCpuSinceNs = 0;
  /** Solution (b): until when the host defers preempting it (−1: no deferral granted). */
  deferUntilNs = -1;
  /** Several guests: which guest a vCPU task belongs to (0 with one guest). */
  owner = 0;
  /** Group scheduling: the task's load weight (its group's share, with several guests). */
  weight = NICE_0_LOAD;
  /** Srivatsa's yield reclaim: slice time given up by a yield, credited when it next runs. */
  yieldBonusNs = 0;

  /** Creates a task; `allowed` is a 0/1 mask over pCPUs. */
  constructor(
    readonly id: number,
    readonly kind: TaskKind,
    readonly index: number,
    readonly allowed: Uint8Array,
    public cpu: number,
  ) {
    doubleFields(this, TASK_TIMES);
  }
}

/** Task fields that hold simulated times (see doubleFields). */
const TASK_TIMES = [
  'vruntime',
  'execStartNs',
  'lastUpdateNs',
  'timerEndNs',
  'timerRemainingNs',
  'resumeAtNs',
  'onCpuTotalNs',
  'onCpuSinceNs',
  'deferUntilNs',
  'yieldBonusNs',
];

/** Callbacks from the scheduler to the guest model. */
export interface HostListener {
  /** `task` started running at `now` (guest code resumes at task.resumeAtNs). */
  dispatched(task: Task, now: number): void;
  /** `task` stopped running at `now`. */
  descheduled(task: Task, now: number): void;
  /** `task` woke up and is runnable. */
  woke(task: Task): void;
  /** Solution (b): whether the running `task` has set the hint "I hold a spinlock". */
  hinted(task: Task): boolean;
}

/** One pCPU's run queue. `rq` holds queued tasks; `curr` is the running one. */
export class Cpu {
  readonly rq: Task[] = [];
  curr: Task | null = null;
  minVruntime = 0;
  lastTaskId = -1;
  tickCount = 0;
  /** Solution (b): version of this pCPU's pending DeferEnd event. */
  deferVersion = 0;
  constructor(
    readonly id: number,
    readonly pkg: number,
  ) {
    doubleFields(this, ['minVruntime']);
  }

  /** Tasks on this pCPU, running or queued (CFS's nr_running). */
  get nrRunning(): number {
    return this.rq.length + (this.curr ? 1 : 0);
  }
}
