import { assert, fail } from './assert';
import type { SimConfig } from './config';
import type { EventQueue } from './queue';
import { findPullable, leftmost, removeFrom, selectCpu } from './balance';
import { yieldTask, yieldToTask } from './host-yield';
import { Cpu, Ev, HostListener, NICE_0_LOAD, Task, TaskKind, TaskState } from './task';
import { Leave, SimTracer } from './trace';

/**
 * The host: per-pCPU CFS-like run queues as in 2.6.35 `kernel/sched_fair.c` — vruntime order,
 * slices from latency/min_granularity, tick preemption, sleeper credit with wakeup preemption,
 * `yield()` (default or compat semantics) and a simple load balancer for unpinned tasks.
 */
export class Host {
  readonly cpus: Cpu[] = [];
  readonly tasks: Task[] = [];
  private nowValue = 0;
  /** Directed yields the scheduler honoured. */
  boosts = 0;
  /** Who is told of every switch (a timeline's recorder), or null. */
  tracer: SimTracer | null = null;
  /** Why the task a switch takes off its pCPU is leaving: set by each way in to a switch. */
  why = Leave.Tick;
  /** Solution (b): preemptions deferred, deferrals that ran out, yields on release. */
  readonly hints = { granted: 0, expired: 0, yields: 0 };
  /**
   * Group scheduling (several guests, 2.6.35's CFS groups as libvirt makes them: one per VM, and
   * one for the hogs): each group's `cpu.shares` and its tasks; null with one guest, where every
   * task is a nice-0 task on a flat queue exactly as before.
   */
  groups: { shares: number; tasks: Task[] }[] | null = null;

  /** Builds the pCPUs; ticks start at a random phase per pCPU (given by the caller). */
  constructor(
    readonly cfg: SimConfig,
    private readonly queue: EventQueue,
    private readonly listener: HostListener,
    tickPhasesNs: number[],
  ) {
    for (let i = 0; i < cfg.pcpus; i++) {
      this.cpus.push(new Cpu(i, Math.floor(i / cfg.coresPerPackage)));
      queue.push(tickPhasesNs[i], Ev.Tick, i, 0);
    }
  }

  /** Creates a sleeping task on `cpu`; `start` makes it runnable. */
  addTask(kind: TaskKind, index: number, allowed: Uint8Array, cpu: number): Task {
    assert(allowed[cpu] === 1, `task placed on a pCPU it may not use`);
    const t = new Task(this.tasks.length, kind, index, allowed, cpu);
    t.state = TaskState.Sleeping;
    this.tasks.push(t);
    return t;
  }

  /**
   * Brings a dead task back as a fresh sleeping task on `cpu` (same id, same allowed pCPUs; its
   * timer and wake versions keep counting, so events of its earlier life stay stale). Its running
   * time keeps accumulating, as if the two lives were one task.
   */
  reviveTask(t: Task, cpu: number): Task {
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

  /** Makes a new task runnable (new tasks start one slice behind: START_DEBIT). */
  start(t: Task): void {
    const c = this.cpus[t.cpu];
    this.updateCurr(c);
    t.vruntime = this.now === 0 ? 0 : c.minVruntime + this.sliceNs(c.nrRunning + 1);
    t.state = TaskState.Runnable;
    c.rq.push(t);
    if (this.tracer !== null) this.tracer.queued(c);
    if (c.curr === null) this.switchTo(c, t);
  }

  /** Removes a task for good (used when hogs are taken away). */
  killTask(t: Task): void {
    const c = this.cpus[t.cpu];
    this.why = Leave.Exit;
    if (t.state === TaskState.Running) {
      this.updateCurr(c);
      t.state = TaskState.Dead;
      this.switchTo(c, leftmost(c.rq));
      if (c.curr === null) this.idleBalance(c);
    } else if (t.state === TaskState.Runnable) {
      removeFrom(c.rq, t);
      if (this.tracer !== null) this.tracer.queued(c);
    }
    t.state = TaskState.Dead;
    t.timerArmed = false;
    t.timerVersion += 1;
    t.wakeVersion += 1;
  }

  /** Simulated time now, in ns (only `advanceTo` moves it). */
  get now(): number {
    return this.nowValue;
  }

  /** Moves the clock to `ns`; time never goes backwards. */
  advanceTo(ns: number): void {
    if (!(ns >= this.nowValue)) fail(`time went backwards: ${ns} < ${this.nowValue}`);
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
    if (!(durationNs >= 0 && Number.isInteger(durationNs))) fail(`timer duration ${durationNs}`);
    t.timerArmed = true;
    t.timerVersion += 1;
    if (t.state === TaskState.Running) {
      t.timerEndNs = Math.max(this.now, t.resumeAtNs) + durationNs;
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
    const t = this.tasks[id];
    if (!t.timerArmed || t.timerVersion !== version || t.state !== TaskState.Running) return null;
    t.timerArmed = false;
    return t;
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
    this.why = Leave.Sleep;
    this.switchTo(c, leftmost(c.rq));
    if (c.curr === null) this.idleBalance(c);
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
    this.why = Leave.Wakeup;
    if (dst.curr === null) this.switchTo(dst, t);
    else if (dst.curr.vruntime - t.vruntime > this.wakeupGran(t) && !this.defers(dst))
      this.resched(dst);
  }

  /** `sched_yield` (see host-yield.ts). Returns whether another task now runs. */
  yield(t: Task): boolean {
    return yieldTask(this, t);
  }

  /** Total time `t` has held a pCPU up to now. */
  onCpuNs(t: Task): number {
    return t.onCpuTotalNs + (t.state === TaskState.Running ? this.now - t.onCpuSinceNs : 0);
  }

  /** `yield_to` (see host-yield.ts). Returns whether the caller stopped running. */
  yieldTo(caller: Task, target: Task): boolean {
    return yieldToTask(this, caller, target);
  }

  /** Scheduler tick on one pCPU: slice check, then load balancing. */
  tick(cpuId: number): void {
    const c = this.cpus[cpuId];
    if (this.groups !== null && cpuId === 0) this.updateShares();
    this.updateCurr(c);
    const curr = c.curr;
    this.why = Leave.Tick;
    if (curr && c.rq.length > 0) {
      const slice = this.groups === null ? this.sliceNs(c.nrRunning) : this.weightedSlice(c, curr);
      const ran = this.now - curr.execStartNs;
      if (ran > slice) {
        if (!this.defers(c)) this.resched(c);
      } else if (ran > this.cfg.minGranularityNs) {
        const left = leftmost(c.rq);
        if (left && curr.vruntime - left.vruntime > slice && !this.defers(c)) this.resched(c);
      }
    }
    c.tickCount += 1;
    if (this.cfg.loadBalance) {
      if (c.curr === null) this.idleBalance(c);
      else if (c.tickCount % this.cfg.balanceTicks === 0) this.periodicBalance(c);
    }
    this.queue.push(this.now + this.cfg.tickNs, Ev.Tick, cpuId, 0);
  }

  /**
   * Srivatsa's reclaim: a task that yielded gets the slice time it gave up as virtual-time credit
   * when it runs again (never more than one scheduling latency behind the queue).
   */
  private reclaim(c: Cpu, t: Task): void {
    const credit =
      this.groups === null ? t.yieldBonusNs : (t.yieldBonusNs * NICE_0_LOAD) / t.weight;
    t.vruntime = Math.max(c.minVruntime - this.cfg.latencyNs, t.vruntime - credit);
    t.yieldBonusNs = 0;
  }

  /** 2.6.35 `wakeup_gran`: the granularity in the woken task's virtual time. */
  private wakeupGran(t: Task): number {
    const g = this.cfg.wakeupGranularityNs;
    return this.groups === null ? g : (g * NICE_0_LOAD) / t.weight;
  }

  /** Group scheduling: `t`'s share of the period, by its weight among the tasks on `c`. */
  private weightedSlice(c: Cpu, t: Task): number {
    let total = c.curr ? c.curr.weight : 0;
    for (const o of c.rq) total += o.weight;
    const n = Math.max(1, c.nrRunning);
    const nrLatency = Math.max(1, Math.floor(this.cfg.latencyNs / this.cfg.minGranularityNs));
    const period = n <= nrLatency ? this.cfg.latencyNs : this.cfg.minGranularityNs * n;
    return Math.floor((period * t.weight) / Math.max(1, total));
  }

  /**
   * Group scheduling, 2.6.35's `update_shares` (rate-limited, here once a tick): a group's shares
   * are split evenly among its runnable tasks wherever they run (at least MIN_SHARES = 2 each);
   * host work stays at the root with a nice-0 weight. Every pCPU is charged at the old weights
   * first.
   */
  updateShares(): void {
    if (this.groups === null) return;
    for (const c of this.cpus) this.updateCurr(c);
    for (const g of this.groups) {
      let n = 0;
      for (const t of g.tasks)
        if (t.state === TaskState.Running || t.state === TaskState.Runnable) n += 1;
      const w = Math.max(2, g.shares / Math.max(1, n));
      for (const t of g.tasks) t.weight = w;
    }
  }

  /**
   * Solution (b): whether the preemption of `c`'s running task is deferred. A task flagged as
   * holding a spinlock gets one deferral of at most `hintMaxDeferNs` (a DeferEnd event preempts it
   * then if it still should be); while it lasts every preemption is deferred.
   */
  private defers(c: Cpu): boolean {
    const t = c.curr;
    if (!this.cfg.preemptHints || t === null) return false;
    if (t.deferUntilNs >= 0) return this.now < t.deferUntilNs;
    if (!this.listener.hinted(t)) return false;
    t.deferUntilNs = this.now + this.cfg.hintMaxDeferNs;
    this.hints.granted += 1;
    c.deferVersion += 1;
    this.queue.push(t.deferUntilNs, Ev.DeferEnd, c.id, c.deferVersion);
    return true;
  }

  /** A deferral's bound ran out: if its task still runs flagged, it is preempted anyway. */
  deferEnd(cpuId: number, version: number): void {
    const c = this.cpus[cpuId];
    const t = c.curr;
    if (version !== c.deferVersion || t === null || t.deferUntilNs < 0) return;
    t.deferUntilNs = -1;
    if (!this.listener.hinted(t)) return;
    this.hints.expired += 1;
    this.why = Leave.Tick;
    this.resched(c);
  }

  /**
   * Solution (b): a vCPU that was granted a deferral released its lock; it yields the pCPU it
   * kept (`sched_yield`) so that the task it held off runs. Returns whether it had one.
   */
  releasedHint(t: Task): boolean {
    if (t.deferUntilNs < 0) return false;
    t.deferUntilNs = -1;
    this.hints.yields += 1;
    yieldTask(this, t);
    return true;
  }

  /** Mirrors `update_curr`: charge the running task and advance min_vruntime. */
  /** Charges the running task's time since its last update (scheduler internal; host-yield.ts uses it). */
  updateCurr(c: Cpu): void {
    const curr = c.curr;
    if (curr) {
      const ran = this.now - curr.lastUpdateNs;
      // calc_delta_fair: a group task's virtual time runs faster the smaller its weight.
      curr.vruntime += this.groups === null ? ran : (ran * NICE_0_LOAD) / curr.weight;
      curr.lastUpdateNs = this.now;
    }
    let v = curr ? curr.vruntime : Infinity;
    const left = leftmost(c.rq);
    if (left) v = Math.min(v, left.vruntime);
    if (v !== Infinity) c.minVruntime = Math.max(c.minVruntime, v);
  }

  /** Puts the running task back and picks the leftmost; the old task loses vruntime ties. */
  /** Re-picks the task to run on `c` (scheduler internal; host-yield.ts uses it). */
  resched(c: Cpu): void {
    this.updateCurr(c);
    const curr = c.curr;
    const left = leftmost(c.rq);
    if (curr === null || curr.state !== TaskState.Running) {
      this.switchTo(c, left);
      return;
    }
    if (left === null || curr.vruntime < left.vruntime) {
      curr.execStartNs = this.now;
      return;
    }
    curr.state = TaskState.Runnable;
    c.rq.push(curr);
    this.switchTo(c, left);
  }

  /** Makes `next` the running task of `c` (scheduler internal; host-yield.ts uses it). */
  switchTo(c: Cpu, next: Task | null): void {
    const prev = c.curr;
    if (prev === next) return;
    if (this.tracer !== null) this.tracer.switched(c, prev, next, this.why);
    if (prev) this.stopRunning(prev);
    c.curr = next;
    if (this.tracer !== null) this.tracer.queued(c);
    if (next === null) return;
    assert(
      next.state === TaskState.Runnable,
      `task ${next.id} switched to while not runnable (state ${next.state})`,
    );
    removeFrom(c.rq, next);
    if (next.yieldBonusNs > 0) this.reclaim(c, next);
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

  /** An idle pCPU pulls a queued task it may run, from the busiest queue (same package first). */
  private idleBalance(c: Cpu): void {
    if (!this.cfg.loadBalance) return;
    const t = findPullable(this.cpus, c, 1, false, this.now, this.cfg.migrationCostNs);
    if (t) {
      this.migrate(t, c);
      if (c.curr === null) this.switchTo(c, t);
    }
  }

  /** Periodic balance: pull one cache-cold task when the busiest queue has ≥ 2 more tasks. */
  private periodicBalance(c: Cpu): void {
    const t = findPullable(this.cpus, c, c.nrRunning + 2, true, this.now, this.cfg.migrationCostNs);
    if (!t) return;
    this.migrate(t, c);
    this.updateCurr(c);
    this.why = Leave.Balance;
    if (c.curr && c.curr.vruntime - t.vruntime > this.cfg.wakeupGranularityNs) this.resched(c);
  }

  private migrate(t: Task, dst: Cpu): void {
    const src = this.cpus[t.cpu];
    removeFrom(src.rq, t);
    this.updateCurr(dst);
    t.vruntime = t.vruntime - src.minVruntime + dst.minVruntime;
    t.cpu = dst.id;
    t.migrations += 1;
    dst.rq.push(t);
    if (this.tracer !== null) {
      this.tracer.queued(src);
      this.tracer.queued(dst);
    }
  }
}
