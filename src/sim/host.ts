import { assert, fail } from './assert';
import { doubleFields } from './doubles';
import type { SimConfig } from './config';
import type { EventQueue } from './queue';
import { leftmost, removeFrom, selectCpu } from './balance';
import { idleBalance, tick } from './host-balance';
import { yieldTask, yieldToTask } from './host-yield';
import { reclaim, updateShares, wakeupGran } from './host-groups';
import { deferEnd, defers, releasedHint } from './host-hints';
import { Cpu, Ev, HostListener, NICE_0_LOAD, Task, TaskKind, TaskState } from './task';
import { Leave, SimTracer } from './trace';
import type { Group, HintCounts, SchedCore } from './host-core';
import { addTask, armTimer, killTask, reviveTask, startTask, timerTask } from './host-tasks';
import { makeCore } from './host-core';

export type { Group, HintCounts, SchedCore } from './host-core';

/**
 * The host: per-pCPU CFS-like run queues as in 2.6.35 `kernel/sched_fair.c` — vruntime order,
 * slices from latency/min_granularity, tick preemption, sleeper credit with wakeup preemption,
 * `yield()` (default or compat semantics) and a simple load balancer for unpinned tasks.
 */
export class Host {
  readonly cpus: Cpu[] = [];
  readonly tasks: Task[] = [];
  private nowValue = 0;
  private boostCount = 0;
  /** Who is told of every switch (a timeline's recorder), or null. */
  tracer: SimTracer | null = null;
  private readonly hintCounts: HintCounts = { granted: 0, expired: 0, yields: 0 };
  /**
   * Group scheduling (several guests, 2.6.35's CFS groups as libvirt makes them: one per VM, and
   * one for the hogs): each group's `cpu.shares` and its tasks; null with one guest, where every
   * task is a nice-0 task on a flat queue exactly as before.
   */
  private groupList: Group[] | null = null;
  /** The scheduler's internals, for its own files only (see `SchedCore`). */
  private readonly core: SchedCore;

  /** Builds the pCPUs; ticks start at a random phase per pCPU (given by the caller). */
  constructor(
    readonly cfg: SimConfig,
    /** The machine's event queue (host-hints.ts pushes the deferral ends). */
    readonly queue: EventQueue,
    /** The guests' callbacks (host-hints.ts asks whether a vCPU holds a lock). */
    readonly listener: HostListener,
    tickPhasesNs: number[],
  ) {
    doubleFields(this, ['nowValue']);
    // The private operations reach the scheduler's own files through the core, and nowhere else.
    this.core = makeCore(this, this.hintCounts, {
      now: () => this.nowValue,
      groups: () => this.groupList,
      updateCurr: (c) => this.updateCurr(c),
      resched: (c, why) => this.resched(c, why),
      switchTo: (c, next, why) => this.switchTo(c, next, why),
      honoured: () => void (this.boostCount += 1),
    });
    for (let i = 0; i < cfg.pcpus; i++) {
      this.cpus.push(new Cpu(i, Math.floor(i / cfg.coresPerPackage)));
      queue.push(tickPhasesNs[i], Ev.Tick, i, 0);
    }
  }

  /** Directed yields the scheduler honoured. */
  get boosts(): number {
    return this.boostCount;
  }

  /** Solution (b)'s counts so far. */
  get hints(): Readonly<HintCounts> {
    return this.hintCounts;
  }

  /** Several guests: one scheduling group per guest (and one for the hogs) from now on. */
  useGroups(shares: readonly number[]): void {
    this.groupList = shares.map((s) => ({ shares: s, tasks: [] }));
  }

  /** Puts a task in scheduling group `group` (several guests only). */
  joinGroup(t: Task, group: number): void {
    (this.groupList as Group[])[group].tasks.push(t);
  }

  /** Whether the host schedules by groups (several guests). */
  get grouped(): boolean {
    return this.groupList !== null;
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
    return this.nowValue;
  }

  /** Moves the clock to `ns`; time never goes backwards. */
  advanceTo(ns: number): void {
    if (!(ns >= this.nowValue)) backwards(ns, this.nowValue);
    this.nowValue = ns;
  }

  /** Slice for a pCPU with `nr` tasks: period / nr, period = latency or min_gran × nr. */
  sliceNs(nr: number): number {
    const n = Math.max(1, nr);
    const nrLatency = Math.max(1, Math.floor(this.cfg.latencyNs / this.cfg.minGranularityNs));
    const period = n <= nrLatency ? this.cfg.latencyNs : this.cfg.minGranularityNs * n;
    return Math.floor(period / n);
  }

  /** Arms a task's timer for `durationNs` of its running time (guest time, after resume). */
  armTimer(t: Task, durationNs: number): void {
    armTimer(this.queue, this.now, t, durationNs);
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
    this.updateCurr(c);
    t.state = TaskState.Sleeping;
    this.switchTo(c, leftmost(c.rq), Leave.Sleep);
    if (c.curr === null) idleBalance(this.core, c);
  }

  /** Wakes a sleeping task: pick a pCPU, give sleeper credit, maybe preempt. */
  wake(t: Task): void {
    assert(t.state === TaskState.Sleeping, `waking a task that is not asleep`);
    const src = this.cpus[t.cpu];
    const dst = selectCpu(this.cpus, t);
    this.updateCurr(dst);
    t.vruntime = t.vruntime - src.minVruntime + dst.minVruntime;
    t.vruntime = Math.max(t.vruntime, dst.minVruntime - Math.floor(this.cfg.latencyNs / 2));
    if (dst !== src) t.migrations += 1;
    t.cpu = dst.id;
    t.state = TaskState.Runnable;
    dst.rq.push(t);
    if (this.tracer !== null) this.tracer.queued(dst);
    this.listener.woke(t);
    if (dst.curr === null) this.switchTo(dst, t, Leave.Wakeup);
    else if (dst.curr.vruntime - t.vruntime > wakeupGran(this.core, t) && !defers(this.core, dst))
      this.resched(dst, Leave.Wakeup);
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

  /** Mirrors `update_curr`: charges the running task's time since its last update and advances min_vruntime. */
  private updateCurr(c: Cpu): void {
    const curr = c.curr;
    if (curr) {
      const ran = this.now - curr.lastUpdateNs;
      // calc_delta_fair: a group task's virtual time runs faster the smaller its weight.
      curr.vruntime += this.groupList === null ? ran : (ran * NICE_0_LOAD) / curr.weight;
      curr.lastUpdateNs = this.now;
    }
    let v = curr ? curr.vruntime : Infinity;
    const left = leftmost(c.rq);
    if (left) v = Math.min(v, left.vruntime);
    if (v !== Infinity) c.minVruntime = Math.max(c.minVruntime, v);
  }

  /** Re-picks the task to run on `c`: puts the running task back (leaving for `why`) and picks the leftmost; the old task loses vruntime ties. */
  private resched(c: Cpu, why: Leave): void {
    this.updateCurr(c);
    const curr = c.curr;
    const left = leftmost(c.rq);
    if (curr === null || curr.state !== TaskState.Running) {
      this.switchTo(c, left, why);
      return;
    }
    if (left === null || curr.vruntime < left.vruntime) {
      curr.execStartNs = this.now;
      return;
    }
    curr.state = TaskState.Runnable;
    c.rq.push(curr);
    this.switchTo(c, left, why);
  }

  /** Makes `next` the running task of `c`; the task running there leaves for `why`. */
  private switchTo(c: Cpu, next: Task | null, why: Leave): void {
    const prev = c.curr;
    if (prev === next) return;
    if (this.tracer !== null) this.tracer.switched(c, prev, next, why);
    if (prev) this.stopRunning(prev);
    c.curr = next;
    if (this.tracer !== null) this.tracer.queued(c);
    if (next === null) return;
    if (next.state !== TaskState.Runnable)
      fail(`task ${next.id} switched to while not runnable (state ${next.state})`);
    removeFrom(c.rq, next);
    if (next.yieldBonusNs > 0) reclaim(this.core, c, next);
    next.state = TaskState.Running;
    next.cpu = c.id;
    next.execStartNs = this.now;
    next.lastUpdateNs = this.now;
    next.onCpuSinceNs = this.now;
    const switchCost =
      next.kind === TaskKind.Vcpu && c.lastTaskId !== next.id ? this.cfg.ctxSwitchNs : 0;
    next.resumeAtNs = this.now + switchCost;
    c.lastTaskId = next.id;
    if (next.timerArmed) {
      next.timerVersion += 1;
      next.timerEndNs = next.resumeAtNs + next.timerRemainingNs;
      this.queue.push(next.timerEndNs, Ev.Timer, next.id, next.timerVersion);
    }
    this.listener.dispatched(next, this.now);
  }

  private stopRunning(t: Task): void {
    t.deferUntilNs = -1;
    t.lastRanNs = this.now;
    t.onCpuTotalNs += this.now - t.onCpuSinceNs;
    if (t.timerArmed) {
      t.timerRemainingNs = Math.max(0, t.timerEndNs - Math.max(this.now, t.resumeAtNs));
      t.timerVersion += 1;
    }
    this.listener.descheduled(t, this.now);
  }
}

// The hot paths' failures build their messages out of line (see queue.ts).
function backwards(ns: number, now: number): never {
  fail(`time went backwards: ${ns} < ${now}`);
}
