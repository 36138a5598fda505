import { fail } from './assert';
import { Job } from './job';
import { HANDOFF_SHARE, stallsIn } from './handoff';
import type { SimConfig } from './config';
import type { Host } from './host';
import { Kvm } from './kvm';
import { LOCK_ALGORITHMS } from './lock-registry';
import { HostListener, Task, TaskKind, TaskState } from './task';
import { Cat, ConvoyTracker } from './instruments';
import { Rng } from './rng';
import { QStats } from './qstats';
import { Histo, PvStats } from './stats';
import { Act, badLock, GuestLock, LockAlgorithmImpl, LockTable, Vcpu } from './vcpu';
import { category, Workload } from './workload';
import { isWaiting } from './acts';
import { Mark, SimTracer } from './trace';
import { IpisUnderLock } from './mech-ipi';
import { ShadowPaging } from './mech-mmu';
import { VfsLocks } from './mech-vfs';
import { LockSpace } from './lock-space';
import { HolderWaste } from './holder-waste';

/**
 * The guest: V vCPUs running a synthetic kernel compile — user-mode stretches with no lock,
 * optional halts (the guest has nothing runnable), and bursty kernel phases that take locks from
 * a population with Zipf popularity, each held for a lognormal critical section.
 */
export class Guest implements HostListener {
  readonly vcpus: Vcpu[] = [];
  /** 0 … vCPUs − 1. */
  readonly vcpuIndices: number[] = [];
  readonly locks: GuestLock[] = [];
  /** The locks' hot numbers (holder, last pCPU, waiters, convoy start), by lock index. */
  readonly lockTable: LockTable;
  readonly stats: PvStats;
  /** pv-qspinlock's event counters (qlockstat). */
  readonly qstats = new QStats();
  /** Lock acquisitions begun, and of those the ones that found the lock held. */
  acquisitions = 0;
  contended = 0;
  /** Holders the host descheduled. */
  preemptedHolders = 0;
  /** µs-scale VM-exit stalls. */
  stalls = 0;
  readonly convoys: ConvoyTracker;
  /** Its lock algorithm (from the lock registry). */
  readonly algo: LockAlgorithmImpl;
  /** KVM's host-side mechanisms (pause-loop exits, the yield hypercalls). */
  readonly kvm: Kvm;
  /** Who is told of every change of a vCPU, a lock or a waiter count (a timeline), or null. */
  tracer: SimTracer | null = null;
  /** The spinning and yielding its vCPUs waste on preempted holders. */
  readonly waste: HolderWaste;
  /** Its job: the work done, the completions (see `Job`). */
  readonly job: Job;
  /** Several guests: the job finished and the vCPUs have left the host (nothing more is counted). */
  retired = false;
  /** Whether the guest keeps the RFC's statistics block (the RFC's lock and its Xen template). */
  readonly rfcStats: boolean;
  /** What each running spinner beyond the first adds to a hand-off (handoff.ts `contendedNs`). */
  readonly handoffPerSpinnerNs: number;
  /** What its vCPUs do: how long they stay in user mode, which locks they take, for how long. */
  private readonly work: Workload;
  /** Where its locks are in its one numbering (shared, local per vCPU, VFS). */
  readonly space: LockSpace;
  /** The 2010 host's mechanisms that are switched on (mech-*.ts), else null. */
  readonly shadow: ShadowPaging | null;
  readonly vfs: VfsLocks | null;
  readonly ipis: IpisUnderLock | null;

  /**
   * A guest of `host`, wired once: its locks, its mechanisms, KVM's side of it and its lock
   * algorithm (from the lock registry, which also says whether it keeps the RFC's statistics).
   */
  constructor(
    readonly cfg: SimConfig,
    readonly rng: Rng,
    readonly host: Host,
  ) {
    this.job = new Job(cfg.jobWorkNs, cfg.loopJobs);
    const lock = LOCK_ALGORITHMS[cfg.lock];
    this.stats = new PvStats(cfg.timeout);
    this.rfcStats = lock.rfcStats;
    this.handoffPerSpinnerNs = HANDOFF_SHARE[lock.handoff] * cfg.lineRequestNs;
    this.convoys = new ConvoyTracker(cfg.convoyMinWaiters);
    this.space = new LockSpace(cfg);
    this.lockTable = new LockTable(this.space.count);
    this.waste = new HolderWaste(this.vcpus, this.lockTable, host);
    for (let i = 0; i < this.lockTable.count; i++)
      this.locks.push(new GuestLock(i, this.lockTable));
    this.vfs = cfg.vfsLocks ? new VfsLocks(cfg, this.space) : null;
    this.work = new Workload(cfg, this.space, this.vfs);
    this.shadow = cfg.shadowPaging ? new ShadowPaging(this) : null;
    this.ipis = cfg.ipiUnderLock ? new IpisUnderLock(this) : null;
    this.kvm = new Kvm(this);
    this.algo = lock.create(this);
  }

  /** Current simulated time (the host's clock; the guest's sched_clock is the same). */
  get now(): number {
    return this.host.now;
  }

  /** Registers a vCPU for a host task and starts it in user mode. */
  addVcpu(task: Task): void {
    const v = new Vcpu(this.vcpus.length, task, new Rng(this.cfg.seed, `vcpu${this.vcpus.length}`));
    this.vcpus.push(v);
    this.vcpuIndices.push(v.index);
    this.startUser(v);
  }

  /** Sets a vCPU's activity and re-files its time accounting. */
  setAct(v: Vcpu, act: Act): void {
    v.act = act;
    this.recat(v);
  }

  /**
   * `v` owns `lock` from now on, seen by its code after `latencyNs` of running; records the samples
   * (no spinning one when `spinSample` is false: a slow path's exchange ends no fast-path attempt).
   */
  acquired(v: Vcpu, lock: GuestLock, latencyNs: number, spinSample = true): void {
    const base = Math.max(this.now, v.task.resumeAtNs);
    const at = base + latencyNs;
    // The lock a vCPU acquires is the one it asked for (`v.lock`): its numbers are read by index.
    const i = v.lock;
    const table = this.lockTable;
    if (this.locks[i] !== lock) badLock(v, 'acquires a lock it did not ask for');
    // One holder per lock: it was free, or already handed to this vCPU (a ticket grant).
    const holder = table.holder(i);
    if (!(holder < 0 || holder === v.index)) badLock(v, `acquires a lock held by vCPU ${holder}`);
    if (holder !== v.index && this.tracer !== null) this.tracer.held(lock, v.index, false);
    table.setHolder(i, v.index);
    table.setLastCpu(i, v.task.cpu);
    v.granted = false;
    if (this.rfcStats) {
      if (spinSample) this.stats.addSample(Histo.Spinning, at - v.startSpinNs);
      this.stats.addSample(Histo.Total, at - v.startTotalNs);
    }
    const waitNs = at - v.startTotalNs;
    v.wait.add(waitNs);
    v.acquisitions += 1;
    this.changeWaiting(i, -1);
    const ownLock = v.lock === this.space.local(v.index);
    const hold = this.work.holdNs(v, ownLock);
    v.segWorkNs = hold;
    this.setAct(v, Act.Hold);
    const runNs = hold + stallsIn(this, v, hold, ownLock);
    if (this.ipis === null) this.host.armTimer(v.task, latencyNs + runNs);
    else {
      const armNs = this.ipis.acquired(v, latencyNs, runNs);
      if (armNs >= 0) this.host.armTimer(v.task, armNs);
    }
  }

  /** Adjusts lock `i`'s waiter count and its convoy episode. */
  private changeWaiting(i: number, delta: number): void {
    const table = this.lockTable;
    const n = table.waiting(i) + delta;
    if (n < 0) fail('negative waiter count');
    table.setWaiting(i, n);
    table.setConvoySinceNs(i, this.convoys.update(table.convoySinceNs(i), n, this.now));
    if (this.tracer !== null) this.tracer.waiters(this.locks[i]);
  }

  /** Tells the tracer (if any) of a moment: `m` happened to vCPU `v` (`other`: the vCPU it names). */
  note(m: Mark, v: number, other = -1): void {
    if (this.tracer !== null) this.tracer.mark(m, this.vcpus[v], other);
  }

  /** Host callback: a task started running. */
  dispatched(task: Task, now: number): void {
    if (task.kind !== TaskKind.Vcpu) return;
    const v = this.vcpus[task.index];
    v.overheadNs += task.resumeAtNs - now;
    this.recat(v);
    this.waste.moved(v);
    if (this.ipis !== null) this.ipis.deliver(v);
    if (v.act === Act.Halted) this.startBurst(v);
    else if (isWaiting(v.act)) this.algo.dispatched(v);
  }

  /** Host callback: a task stopped running. */
  descheduled(task: Task): void {
    if (task.kind !== TaskKind.Vcpu || this.retired) return;
    const v = this.vcpus[task.index];
    if (v.act === Act.Hold) {
      v.preemptedHolding += 1;
      this.preemptedHolders += 1;
      this.note(Mark.HolderPreempted, v.index);
    }
    this.recat(v);
    this.waste.moved(v);
    if (v.lock >= 0 && this.algo.descheduled) this.algo.descheduled(v);
    // Solution (c): the host marks the vCPU preempted (runnable, not halted) in its steal time.
    if (this.cfg.runState && v.lock >= 0 && task.state === TaskState.Runnable)
      this.algo.ownerPreempted?.(this.locks[v.lock]);
  }

  /** Host callback (solution (b)): a vCPU holding a lock has the hint set. */
  hinted(task: Task): boolean {
    return task.kind === TaskKind.Vcpu && this.vcpus[task.index].act === Act.Hold;
  }

  /** Host callback: a task woke up. */
  woke(task: Task): void {
    if (task.kind === TaskKind.Vcpu) this.recat(this.vcpus[task.index]);
  }

  /** A vCPU's running-time timer fired. */
  onTimer(v: Vcpu): void {
    switch (v.act) {
      case Act.User:
        this.job.add(v.segWorkNs, this.now);
        if (v.rng.uniform() < this.cfg.idleProbability) this.halt(v);
        else this.startBurst(v);
        break;
      case Act.Gap:
        this.job.add(v.segWorkNs, this.now);
        this.beginAcquire(v);
        break;
      case Act.Hold:
        this.job.add(v.segWorkNs, this.now);
        this.release(v);
        break;
      default:
        this.algo.timer(v);
    }
  }

  /** Files the time since the last change under the vCPU's previous category. */
  recat(v: Vcpu): void {
    const now = this.now;
    v.timeNs[v.cat] += now - v.catSinceNs;
    v.catSinceNs = now;
    const cat = category(v);
    v.cat = cat;
    // Most changes are of a vCPU that neither waits on a lock nor was counting waste.
    if (v.lhpKind >= 0 || cat === Cat.Spin || cat === Cat.Yield) this.waste.file(v, now);
    if (this.tracer !== null) this.tracer.vcpu(v);
  }

  private halt(v: Vcpu): void {
    this.setAct(v, Act.Halted);
    this.host.sleep(v.task);
    this.host.scheduleWake(v.task, this.now + v.rng.expNs(this.cfg.idleNsMean));
  }

  private startUser(v: Vcpu): void {
    const d = this.work.userNs(v);
    v.segWorkNs = d;
    this.setAct(v, Act.User);
    this.host.armTimer(v.task, d + stallsIn(this, v, d));
  }

  private startBurst(v: Vcpu): void {
    v.burstLeft = this.work.burst(v);
    this.startGap(v);
  }

  private startGap(v: Vcpu): void {
    const d = this.cfg.bursty ? v.rng.expNs(this.cfg.gapNsMean) : 1;
    v.segWorkNs = d;
    this.setAct(v, Act.Gap);
    this.host.armTimer(v.task, d + stallsIn(this, v, d));
  }

  private beginAcquire(v: Vcpu): void {
    v.lock = this.work.pickLock(v);
    v.startTotalNs = this.now;
    this.acquisitions += 1;
    const held = this.lockTable.holder(v.lock) >= 0;
    if (held) this.contended += 1;
    if (this.vfs !== null) this.vfs.acquire(v.lock, held);
    this.changeWaiting(v.lock, +1);
    this.algo.begin(v);
  }

  private release(v: Vcpu): void {
    const i = v.lock;
    const table = this.lockTable;
    if (!(table.holder(i) === v.index)) badLock(v, 'releases a lock it does not hold');
    if (this.rfcStats) this.stats.addReleased();
    table.setHolder(i, -1);
    table.setLastCpu(i, v.task.cpu);
    v.lock = -1;
    const lock = this.locks[i];
    if (this.tracer !== null) this.tracer.released(lock, v.index);
    // An algorithm with nothing to do when nobody waits is not called (its state stays uncached).
    if (table.waiting(i) > 0 || !this.algo.idleWhenUncontended) this.algo.released(lock);
    // Interrupts are on again: IPIs that waited for this vCPU are taken.
    if (this.ipis !== null) this.ipis.deliver(v);
    if (this.job.finished) return;
    v.burstLeft -= 1;
    if (v.burstLeft > 0) this.startGap(v);
    else this.startUser(v);
    // Solution (b): the hint is cleared; a vCPU the host held a preemption for yields now.
    if (this.cfg.preemptHints) this.host.releasedHint(v.task);
  }
}
