import { assert, fail } from './assert';
import type { SimConfig } from './config';
import type { EventQueue } from './queue';
import { leftmost, selectCpu } from './balance';
import { idleBalance, tick } from './host-balance';
import { yieldTask, yieldToTask } from './host-yield';
import { updateShares, wakeupGran } from './host-groups';
import { deferEnd, defers, releasedHint } from './host-hints';
import { Cpu, Ev, HostListener, Task, TaskKind, TaskState } from './task';
import { Leave, SimTracer } from './trace';
import { Group, HintCounts, SchedCore } from './host-core';
import { addTask, killTask, reviveTask, startTask, timerTask } from './host-tasks';

export type { Group, HintCounts } from './host-core';

/**
 * The host: per-pCPU CFS-like run queues as in 2.6.35 `kernel/sched_fair.c` — vruntime order,
 * slices from latency/min_granularity, tick preemption, sleeper credit with wakeup preemption,
 * `yield()` (default or compat semantics) and a simple load balancer for unpinned tasks.
 */
export class Host {
  readonly tasks: Task[] = [];
  /** The scheduler's state and private operations, for its own files only (see `SchedCore`). */
  private readonly core: SchedCore;
  /** The pCPUs. */
  readonly cpus: Cpu[];

  /** Builds the pCPUs; ticks start at a random phase per pCPU (given by the caller). */
  constructor(
    readonly cfg: SimConfig,
    /** The machine's event queue (host-hints.ts pushes the deferral ends). */
    readonly queue: EventQueue,
    /** The guests' callbacks (host-hints.ts asks whether a vCPU holds a lock). */
    readonly listener: HostListener,
    tickPhasesNs: number[],
  ) {
    this.core = new SchedCore(cfg, queue, listener);
    this.cpus = this.core.cpus;
    for (let i = 0; i < cfg.pcpus; i++) {
      this.cpus.push(new Cpu(i, Math.floor(i / cfg.coresPerPackage)));
      queue.push(tickPhasesNs[i], Ev.Tick, i, 0);
    }
  }

  /** Who is told of every switch (a timeline's recorder), or null. */
  get tracer(): SimTracer | null {
    return this.core.tracer;
  }
  set tracer(t: SimTracer | null) {
    this.core.tracer = t;
  }

  /** Directed yields the scheduler honoured. */
  get boosts(): number {
    return this.core.boosts;
  }

  /** Solution (b)'s counts so far. */
  get hints(): Readonly<HintCounts> {
    return this.core.hints;
  }

  /** Several guests: one scheduling group per guest (and one for the hogs) from now on. */
  useGroups(shares: readonly number[]): void {
    this.core.groups = shares.map((s) => ({ shares: s, tasks: [] }));
  }

  /** Puts a task in scheduling group `group` (several guests only). */
  joinGroup(t: Task, group: number): void {
    (this.core.groups as Group[])[group].tasks.push(t);
  }

  /** Whether the host schedules by groups (several guests). */
  get grouped(): boolean {
    return this.core.groups !== null;
  }

  /** 2.6.35's `update_shares`: the groups' weights from their runnable tasks (see host-groups.ts). */
  updateShares(): void {
    updateShares(this.core);
  }

  /** A deferral's bound ran out (solution (b); see host-hints.ts). */
  deferEnd(cpuId: number, version: number): void {
    deferEnd(this.core, cpuId, version);
  }

  /** A hinted vCPU released its lock: it yields what its deferral kept (see host-hints.ts). */
  releasedHint(t: Task): boolean {
    return releasedHint(this.core, t);
  }

  /** Creates a sleeping task on `cpu`; `start` makes it runnable. */
  addTask(kind: TaskKind, index: number, allowed: Uint8Array, cpu: number): Task {
    return addTask(this.tasks, kind, index, allowed, cpu);
  }

  /** Brings a dead task back as a fresh sleeping task on `cpu` (see host-tasks.ts). */
  reviveTask(t: Task, cpu: number): Task {
    return reviveTask(t, cpu);
  }

  /** Makes a new task runnable (see host-tasks.ts). */
  start(t: Task): void {
    startTask(this.core, t);
  }

  /**
   * Takes a task off the host (dead until `reviveTask`): a hog taken away, kept for reuse, or the
   * vCPUs of a guest that finished its job (see host-tasks.ts).
   */
  killTask(t: Task): void {
    killTask(this.core, t);
  }

  /** Simulated time now, in ns (only `advanceTo` moves it). */
  get now(): number {
    return this.core.now;
  }

  /** Moves the clock to `ns`; time never goes backwards. */
  advanceTo(ns: number): void {
    const core = this.core;
    if (!(ns >= core.now)) backwards(ns, core.now);
    core.now = ns;
  }

  /** Slice for a pCPU with `nr` tasks: period / nr, period = latency or min_gran × nr. */
  sliceNs(nr: number): number {
    return this.core.sliceNs(nr);
  }

  /**
   * Arms a task's timer for `durationNs` of its running time (guest time, after resume). On the
   * path of every lock acquisition: kept here, whole, so the engine inlines it into its callers.
   */
  armTimer(t: Task, durationNs: number): void {
    if (!(durationNs >= 0 && Number.isInteger(durationNs))) badDuration(durationNs);
    t.timerArmed = true;
    t.timerVersion += 1;
    if (t.state === TaskState.Running) {
      t.timerEndNs = Math.max(this.core.now, t.resumeAtNs) + durationNs;
      this.queue.push(t.timerEndNs, Ev.Timer, t.id, t.timerVersion);
    } else {
      t.timerRemainingNs = durationNs;
    }
  }

  /** Stops a task's timer. */
  cancelTimer(t: Task): void {
    t.timerArmed = false;
    t.timerVersion += 1;
  }

  /** The valid task for a timer event, or null if the event is stale. */
  timerTask(id: number, version: number): Task | null {
    return timerTask(this.tasks, id, version);
  }

  /** Schedules a sleeping task's wakeup. */
  scheduleWake(t: Task, atNs: number): void {
    t.wakeVersion += 1;
    this.queue.push(atNs, Ev.Wake, t.id, t.wakeVersion);
  }

  /** Handles a wake event (ignores stale ones). */
  onWakeEvent(id: number, version: number): void {
    const t = this.tasks[id];
    if (t.wakeVersion === version && t.state === TaskState.Sleeping) this.wake(t);
  }

  /** The running task goes to sleep (a halted vCPU, finished host work). */
  sleep(t: Task): void {
    const c = this.cpus[t.cpu];
    assert(c.curr === t && t.state === TaskState.Running, `only the running task can sleep`);
    this.core.updateCurr(c);
    t.state = TaskState.Sleeping;
    this.core.switchTo(c, leftmost(c.rq), Leave.Sleep);
    if (c.curr === null) idleBalance(this.core, c);
  }

  /** Wakes a sleeping task: pick a pCPU, give sleeper credit, maybe preempt. */
  wake(t: Task): void {
    assert(t.state === TaskState.Sleeping, `waking a task that is not asleep`);
    const src = this.cpus[t.cpu];
    const dst = selectCpu(this.cpus, t);
    const core = this.core;
    core.updateCurr(dst);
    t.vruntime = t.vruntime - src.minVruntime + dst.minVruntime;
    t.vruntime = Math.max(t.vruntime, dst.minVruntime - Math.floor(this.cfg.latencyNs / 2));
    if (dst !== src) t.migrations += 1;
    t.cpu = dst.id;
    t.state = TaskState.Runnable;
    dst.rq.push(t);
    if (core.tracer !== null) core.tracer.queued(dst);
    this.listener.woke(t);
    if (dst.curr === null) core.switchTo(dst, t, Leave.Wakeup);
    else if (dst.curr.vruntime - t.vruntime > wakeupGran(core, t) && !defers(core, dst))
      core.resched(dst, Leave.Wakeup);
  }

  /** `sched_yield` (see host-yield.ts). Returns whether another task now runs. */
  yield(t: Task): boolean {
    return yieldTask(this.core, t);
  }

  /** Total time `t` has held a pCPU up to now. */
  onCpuNs(t: Task): number {
    return t.onCpuTotalNs + (t.state === TaskState.Running ? this.now - t.onCpuSinceNs : 0);
  }

  /** `yield_to` (see host-yield.ts). Returns whether the caller stopped running. */
  yieldTo(caller: Task, target: Task): boolean {
    return yieldToTask(this.core, caller, target);
  }

  /** Scheduler tick on one pCPU: slice check, then load balancing (see host-balance.ts). */
  tick(cpuId: number): void {
    tick(this.core, cpuId);
  }
}

// The hot paths' failures build their messages out of line (see queue.ts).
function backwards(ns: number, now: number): never {
  fail(`time went backwards: ${ns} < ${now}`);
}

function badDuration(ns: number): never {
  fail(`timer duration ${ns}`);
}
