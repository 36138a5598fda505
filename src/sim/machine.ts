import { assert, fail } from './assert';
import { doubleFields } from './doubles';
import { SimConfig } from './config';
import { validateConfig } from './config-check';
import { Guest } from './guest';
import { Host } from './host';
import { Ev, HostListener, Task, TaskKind, TaskState } from './task';
import { hogPlacement, vcpuPlacement } from './placement';
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

/** One guest of several: its name and its whole configuration (the host's fields are ignored). */
export interface GuestSetup {
  name: string;
  cfg: SimConfig;
}

/** The host's callbacks, passed on to the guest each vCPU task belongs to. */
class GuestRouter implements HostListener {
  /** The machine's guests (the list is filled as they are built on the host). */
  constructor(private readonly guests: readonly Guest[]) {}
  dispatched(task: Task, now: number): void {
    if (task.kind === TaskKind.Vcpu) this.guests[task.owner].dispatched(task, now);
  }
  descheduled(task: Task): void {
    if (task.kind === TaskKind.Vcpu) this.guests[task.owner].descheduled(task);
  }
  woke(task: Task): void {
    if (task.kind === TaskKind.Vcpu) this.guests[task.owner].woke(task);
  }
  hinted(task: Task): boolean {
    return task.kind === TaskKind.Vcpu && this.guests[task.owner].hinted(task);
  }
}

/**
 * One simulated host with one guest (or several, each in its own scheduling group): builds the
 * tasks for the configured pinning, hogs and host noise, and processes events in (time,
 * insertion) order. Knobs may be changed between any two calls; they take effect where the
 * guest's code next reads them.
 */
export class Machine {
  readonly rng: Rng;
  /** Each pCPU's host-noise stream (the same bursts whatever the guest's lock does). */
  private readonly noiseRng: Rng[] = [];
  readonly queue = new EventQueue();
  readonly host: Host;
  /** The guests, in the order given (one without `setups`). */
  readonly guests: Guest[] = [];
  /** Their names (`guest` for the single guest). */
  readonly names: string[];
  /** Whether the machine was built with `setups` (group scheduling, one group per guest). */
  readonly multi: boolean;
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

  /**
   * Builds the machine at simulated time 0; the config must be valid. With `setups`, the host
   * (`cfg`'s pCPUs, hogs, scheduler, noise) runs those guests instead of `cfg`'s own, each vCPU
   * task in its guest's group and the hogs in a group of their own.
   */
  constructor(
    readonly cfg: SimConfig,
    setups?: readonly GuestSetup[],
  ) {
    doubleFields(this.ev, ['timeNs', 'version']);
    const problems = validateConfig(cfg);
    assert(problems.length === 0, `invalid config: ${problems.map((p) => p.key).join(', ')}`);
    this.rng = new Rng(cfg.seed);
    this.multi = setups !== undefined;
    this.names = setups ? setups.map((s) => s.name) : ['guest'];
    // The host first (the guests are built on it): its tick phases are the machine stream's
    // first draws, as they always were (building a guest draws nothing from it).
    const phases = Array.from({ length: cfg.pcpus }, () => this.rng.int(0, cfg.tickNs - 1));
    this.host = new Host(cfg, this.queue, new GuestRouter(this.guests), phases);
    for (const s of setups ?? [{ name: 'guest', cfg }]) {
      const bad = validateConfig(s.cfg);
      assert(
        bad.length === 0,
        `invalid config of guest ${s.name}: ${bad.map((p) => p.key).join(', ')}`,
      );
      // One guest draws from the machine's stream, as it always has; several have their own.
      const rng = setups ? new Rng(s.cfg.seed, `guest:${s.name}`) : this.rng;
      this.guests.push(new Guest(s.cfg, rng, this.host));
    }
    const burstMean = (cfg.noiseBurstMinNs + cfg.noiseBurstMaxNs) / 2;
    this.noiseQuietNsMean =
      cfg.noiseShare > 0 ? (burstMean * (1 - cfg.noiseShare)) / cfg.noiseShare : Infinity;
    if (setups) this.host.useGroups([...this.guests.map((g) => g.cfg.shares), 1024]);
    this.guests.forEach((g, i) => this.addVcpus(g, i));
    this.setHogs(cfg.hogs);
    if (cfg.hostNoise && cfg.noiseShare > 0) this.addNoise();
    this.host.updateShares();
  }

  /** The (first) guest. */
  get guest(): Guest {
    return this.guests[0];
  }

  /** vCPUs on the host, over every guest. */
  get vcpuCount(): number {
    return this.guests.reduce((n, g) => n + g.cfg.vcpus, 0);
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
    for (const g of this.guests) g.tracer = t;
  }

  /** Number of hogs currently on the host. */
  get hogCount(): number {
    return this.hogs.length;
  }

  /**
   * Processes events up to and including `limitNs` (then time stands at `limitNs`), or until
   * `maxEvents` were processed, or until the job finished (with several guests: until every
   * guest that does not loop its job has finished it).
   */
  runUntil(limitNs: number, maxEvents = Infinity): RunStop {
    const ev = this.ev;
    const queue = this.queue;
    const host = this.host;
    let n = 0;
    // One guest: the run ends with its job. Several: each finished guest is retired (its vCPUs
    // leave the host) after the event that finished it, and the run ends with the last (guests
    // that loop their jobs never finish, so then there is nothing to look for).
    const only = this.guests[0];
    const retiring = this.multi && this.guests.some((g) => !g.cfg.loopJobs);
    while (this.multi ? this.retired < this.guests.length : !only.job.finished) {
      if (n >= maxEvents) return RunStop.EventBudget;
      if (queue.peekTime() > limitNs) {
        host.advanceTo(Math.max(host.now, limitNs));
        return RunStop.ReachedTime;
      }
      queue.pop(ev);
      // The loop is bounded by simulated time; what could keep it from advancing is events that
      // keep scheduling events at the same instant, a livelock: fail on it instead of spinning.
      if (ev.timeNs === host.now) {
        this.eventsAtNow += 1;
        if (this.eventsAtNow > MAX_EVENTS_PER_INSTANT)
          fail(`livelock: more than ${MAX_EVENTS_PER_INSTANT} events at ${ev.timeNs} ns`);
      } else this.eventsAtNow = 0;
      host.advanceTo(ev.timeNs);
      this.dispatch(ev);
      n += 1;
      if (retiring) this.retireFinished();
    }
    return RunStop.JobFinished;
  }

  /** Guests whose job has finished and whose vCPUs have left the host (several guests only). */
  private retired = 0;

  /** Takes every vCPU of a guest that just finished its job off the host, so the others run on. */
  private retireFinished(): void {
    for (const g of this.guests) {
      if (!g.job.finished || g.retired) continue;
      g.retired = true;
      this.retired += 1;
      for (const v of g.vcpus) {
        if (v.task.state !== TaskState.Dead) this.host.killTask(v.task);
        g.recat(v);
      }
    }
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
      const { allowed, cpu } = hogPlacement(this.cfg, this.vcpuCount, j);
      const old = this.retiredHogs[j];
      const t =
        old === undefined
          ? this.host.addTask(TaskKind.Hog, j, allowed, cpu)
          : this.host.reviveTask(old, cpu);
      if (old === undefined && this.host.grouped) this.joinGroup(t, this.guests.length);
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
        if (t.kind === TaskKind.Vcpu) {
          const g = this.guests[t.owner];
          g.onTimer(g.vcpus[t.index]);
        } else this.noiseBurstDone(t);
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

  /** Puts a task in scheduling group `group` (several guests only). */
  private joinGroup(t: Task, group: number): void {
    this.host.joinGroup(t, group);
  }

  private addVcpus(g: Guest, owner: number): void {
    for (let i = 0; i < g.cfg.vcpus; i++) {
      const { allowed, cpu } = vcpuPlacement(this.cfg, g.cfg.pinning, i);
      const t = this.host.addTask(TaskKind.Vcpu, i, allowed, cpu);
      t.owner = owner;
      if (this.multi) this.joinGroup(t, owner);
      g.addVcpu(t);
      this.host.start(t);
    }
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
