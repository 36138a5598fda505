import { assert, fail } from './assert';
import { SimConfig, validateConfig } from './config';
import { Guest } from './guest';
import { Host } from './host';
import { Kvm } from './kvm';
import { Ev, Task, TaskKind, TaskState } from './task';
import { LOCK_ALGORITHMS } from './lock-registry';
import { EventQueue, PoppedEvent } from './queue';
import { Rng } from './rng';
import type { SimTracer } from './trace';

/**
 * The most events one simulated instant may see: a few per task (a tick, a timer, a wake-up) at
 * the largest configuration is thousands; a million means events re-schedule themselves at the
 * same instant forever.
 */
const MAX_EVENTS_PER_INSTANT = 1_000_000;

/** Why `runUntil` returned. */
export const enum RunStop {
  ReachedTime = 0,
  EventBudget = 1,
  JobFinished = 2,
}

/**
 * One simulated host with one guest: builds the tasks for the configured pinning, hogs and host
 * noise, and processes events in (time, insertion) order. Knobs may be changed between any two
 * calls; they take effect where the guest's code next reads them.
 */
export class Machine {
  readonly rng: Rng;
  /** Each pCPU's host-noise stream (the same bursts whatever the guest's lock does). */
  private readonly noiseRng: Rng[] = [];
  readonly queue = new EventQueue();
  readonly host: Host;
  readonly guest: Guest;
  events = 0;
  /** Events processed at the current instant (see MAX_EVENTS_PER_INSTANT). */
  private eventsAtNow = 0;
  private readonly hogs: Task[] = [];
  /**
   * Hogs taken away, by hog index, kept for reuse: the `hogs` knob may be written any number of
   * times, and a new task per hog each time would grow the host's task list without bound.
   */
  private readonly retiredHogs: Task[] = [];
  private readonly ev: PoppedEvent = { timeNs: 0, kind: 0, target: 0, version: 0 };
  private readonly noiseQuietNsMean: number;

  /** Builds the machine at simulated time 0; the config must be valid. */
  constructor(readonly cfg: SimConfig) {
    const problems = validateConfig(cfg);
    assert(problems.length === 0, `invalid config: ${problems.map((p) => p.key).join(', ')}`);
    this.rng = new Rng(cfg.seed);
    const lock = LOCK_ALGORITHMS[cfg.lock];
    this.guest = new Guest(cfg, this.rng, lock.rfcStats);
    const phases = Array.from({ length: cfg.pcpus }, () => this.rng.int(0, cfg.tickNs - 1));
    this.host = new Host(cfg, this.queue, this.guest, phases);
    this.guest.host = this.host;
    this.guest.kvm = new Kvm(this.guest);
    this.guest.algo = lock.create(this.guest);
    const burstMean = (cfg.noiseBurstMinNs + cfg.noiseBurstMaxNs) / 2;
    this.noiseQuietNsMean =
      cfg.noiseShare > 0 ? (burstMean * (1 - cfg.noiseShare)) / cfg.noiseShare : Infinity;
    this.addVcpus();
    this.setHogs(cfg.hogs);
    if (cfg.hostNoise && cfg.noiseShare > 0) this.addNoise();
  }

  /** Simulated time now, in ns. */
  get nowNs(): number {
    return this.host.now;
  }

  /**
   * Attaches a tracer (or detaches with null): from now on it hears of every switch, vCPU change,
   * hold and mark. It only reads, so the run's results are the same with or without one.
   */
  setTracer(t: SimTracer | null): void {
    this.host.tracer = t;
    this.guest.tracer = t;
  }

  /** Number of hogs currently on the host. */
  get hogCount(): number {
    return this.hogs.length;
  }

  /**
   * Processes events up to and including `limitNs` (then time stands at `limitNs`), or until
   * `maxEvents` were processed, or until a single job finished.
   */
  runUntil(limitNs: number, maxEvents = Infinity): RunStop {
    const ev = this.ev;
    let n = 0;
    while (!this.guest.finished) {
      if (n >= maxEvents) return RunStop.EventBudget;
      if (this.queue.peekTime() > limitNs) {
        this.host.advanceTo(Math.max(this.host.now, limitNs));
        return RunStop.ReachedTime;
      }
      this.queue.pop(ev);
      // The loop is bounded by simulated time; what could keep it from advancing is events that
      // keep scheduling events at the same instant, a livelock: fail on it instead of spinning.
      if (ev.timeNs === this.host.now) {
        this.eventsAtNow += 1;
        if (this.eventsAtNow > MAX_EVENTS_PER_INSTANT)
          fail(`livelock: more than ${MAX_EVENTS_PER_INSTANT} events at ${ev.timeNs} ns`);
      } else this.eventsAtNow = 0;
      this.host.advanceTo(ev.timeNs);
      this.dispatch(ev);
      n += 1;
    }
    return RunStop.JobFinished;
  }

  /** Changes the number of CPU hogs (the host's overcommit) at the current time. */
  setHogs(n: number): void {
    assert(Number.isInteger(n) && n >= 0, `hog count ${n}`);
    while (this.hogs.length > n) {
      const t = this.hogs.pop() as Task;
      this.host.killTask(t);
      this.retiredHogs[t.index] = t;
    }
    while (this.hogs.length < n) {
      const j = this.hogs.length;
      const { allowed, cpu } = this.hogPlacement(j);
      const old = this.retiredHogs[j];
      const t =
        old === undefined
          ? this.host.addTask(TaskKind.Hog, j, allowed, cpu)
          : this.host.reviveTask(old, cpu);
      this.hogs.push(t);
      this.host.start(t);
    }
  }

  private dispatch(ev: PoppedEvent): void {
    this.events += 1;
    switch (ev.kind) {
      case Ev.Timer: {
        const t = this.host.timerTask(ev.target, ev.version);
        if (t === null) return;
        if (t.kind === TaskKind.Vcpu) this.guest.onTimer(this.guest.vcpus[t.index]);
        else this.noiseBurstDone(t);
        return;
      }
      case Ev.Wake: {
        const t = this.host.tasks[ev.target];
        if (
          t.kind === TaskKind.Noise &&
          t.state === TaskState.Sleeping &&
          t.wakeVersion === ev.version
        ) {
          this.host.armTimer(
            t,
            this.noiseRng[t.index].int(this.cfg.noiseBurstMinNs, this.cfg.noiseBurstMaxNs),
          );
        }
        this.host.onWakeEvent(ev.target, ev.version);
        return;
      }
      case Ev.Tick:
        this.host.tick(ev.target);
        return;
      case Ev.DeferEnd:
        this.host.deferEnd(ev.target, ev.version);
        return;
      default:
        assert(false, `unknown event kind ${ev.kind}`);
    }
  }

  private noiseBurstDone(t: Task): void {
    this.host.sleep(t);
    this.host.scheduleWake(t, this.host.now + this.noiseRng[t.index].expNs(this.noiseQuietNsMean));
  }

  private addVcpus(): void {
    const { vcpus, pcpus, pinning } = this.cfg;
    const pkgCpus = this.vcpuPackage();
    for (let i = 0; i < vcpus; i++) {
      const allowed = new Uint8Array(pcpus);
      let cpu: number;
      if (pinning === 'A') {
        cpu = i % pcpus;
        allowed[cpu] = 1;
      } else if (pinning === 'C') {
        for (const c of pkgCpus) allowed[c] = 1;
        cpu = pkgCpus[i % pkgCpus.length];
      } else {
        allowed.fill(1);
        cpu = i % pcpus;
      }
      const t = this.host.addTask(TaskKind.Vcpu, i, allowed, cpu);
      this.guest.addVcpu(t);
      this.host.start(t);
    }
  }

  /** Scenario C's package: the last `coresPerPackage` pCPUs (pCPUs 2 and 3 on the RFC's host). */
  private vcpuPackage(): number[] {
    const n = Math.min(this.cfg.coresPerPackage, this.cfg.pcpus);
    return Array.from({ length: n }, (_, k) => this.cfg.pcpus - n + k);
  }

  private hogPlacement(j: number): { allowed: Uint8Array; cpu: number } {
    const { pcpus, pinning, cHogShare, vcpus } = this.cfg;
    const allowed = new Uint8Array(pcpus);
    if (pinning === 'C' && j < Math.round(cHogShare * this.cfg.hogs)) {
      // Pinned to the vCPUs' package (either of its pCPUs), placed alternately at the start.
      const pkg = this.vcpuPackage();
      for (const c of pkg) allowed[c] = 1;
      return { allowed, cpu: pkg[j % pkg.length] };
    }
    allowed.fill(1);
    return { allowed, cpu: (vcpus + j) % pcpus };
  }

  private addNoise(): void {
    for (let c = 0; c < this.cfg.pcpus; c++) {
      const allowed = new Uint8Array(this.cfg.pcpus);
      allowed[c] = 1;
      const t = this.host.addTask(TaskKind.Noise, c, allowed, c);
      this.noiseRng[c] = new Rng(this.cfg.seed, `noise${c}`);
      this.host.scheduleWake(t, this.noiseRng[c].expNs(this.noiseQuietNsMean));
    }
  }
}
