import { performance } from 'node:perf_hooks';
import { FsError } from '../debugfs/errors';
import { Machine, RunStop } from '../sim/machine';
import type { LiveTrace } from './live-trace';
import { ScriptedClock } from './script';

/** Wall-clock period of the driver, and the most wall time one step may take. */
const PERIOD_MS = 10;
const SLICE_MS = 0.5;
/** While file operations come in, a simulation that is behind pauses this long between slices. */
const IO_PAUSE_MS = 1;
const EVENTS_PER_CHECK = 1000;
/** If the simulation falls this far behind the wall clock it drops the backlog instead of racing. */
const MAX_LAG_MS = 250;
/** The falling-behind notice waits this long after start, so the speed it states is not the JIT's warm-up. */
const WARMUP_MS = 2000;
/** The most one write to `pvlockfs/advance_ns` may ask for: 10 simulated minutes. */
export const MAX_ADVANCE_NS = 600e9;
/**
 * Wall time a step of `advance_ns` runs before it lets the event loop turn: file operations,
 * signals and timers are served between slices, so a long step holds nothing up for longer.
 */
const ADVANCE_SLICE_MS = 10;

/** Lets the event loop serve what is waiting (I/O, signals), then resumes. */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * Drives a machine in real time: simulated time follows the wall clock × speed, advanced in
 * slices of at most ~0.5 ms so the main thread (which also answers every FUSE operation) stays
 * free: every 10 ms, and while the simulation is behind, one slice after another — at once when
 * nobody is using the files (a large guest can use the whole core), 1 ms apart while file
 * operations come in (a read's lookup, open, read and release then follow each other without
 * waiting for slices). `running` = 0 freezes the machine: all files then form one consistent
 * snapshot.
 */
export class LiveDriver {
  private runningValue: number;
  /** The clock the driver advances through (the machine's, with the script's actions, if any). */
  private clock: ScriptedClock;
  private anchorWallMs = 0;
  private anchorSimNs = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The next slice of a simulation that is behind (cancels it). */
  private again: (() => void) | null = null;
  /** Whether a file operation arrived since the last slice began. */
  private operations = false;
  /** The wall clock, in ms (a test may give its own). */
  private readonly clockMs: () => number;
  /** Wall milliseconds of backlog dropped because the simulation could not keep up. */
  droppedLagMs = 0;
  /** Periods of the driver's timer so far, paused or not (told by the daemon's diagnostics). */
  periods = 0;
  /** The steps of `advance_ns` in progress, one after another (each waits for the one before). */
  private advances: Promise<void> = Promise.resolve();
  /** How many `advance_ns` writes have not returned yet. */
  private advancing = 0;
  /** Set by `stop`: a step in progress ends at its next slice with ECANCELED. */
  private stopping = false;
  /** The mount's timeline recorder: the driver stops at a recording's end so it is exact. */
  trace: LiveTrace | null = null;
  /** Told each time simulated time has moved (fault injection releases its stalls). */
  onAdvanced: (() => void) | null = null;
  private warned = false;
  private startedMs = 0;
  private lastStepMs = 0;

  /**
   * `onBehind` is called once, the first time a backlog is dropped after a warm-up of 2 s, with
   * the speed the simulation did reach (simulated ns per wall ns) while it fell behind.
   */
  constructor(
    readonly machine: Machine,
    readonly speed: number,
    private readonly onBehind: (reached: number) => void = () => undefined,
    opts: { paused?: boolean; clockMs?: () => number } = {},
  ) {
    this.runningValue = opts.paused ? 0 : 1;
    this.clockMs = opts.clockMs ?? (() => performance.now());
    this.clock = new ScriptedClock(machine, [], () => undefined);
  }

  /** Advances through `clock` from now on (a script's actions applied at their instants). */
  useClock(clock: ScriptedClock): void {
    this.clock = clock;
  }

  /**
   * The `pvlockfs/advance_ns` knob: runs exactly `ns` simulated nanoseconds, applying the
   * script's actions on the way; the write returns when they are done. Only a stopped guest can
   * be stepped (EBUSY while running); more than 10 simulated minutes at once is EINVAL. The step
   * runs in slices of about 10 ms of wall time: between them the daemon answers other file
   * operations (which see the guest part of the way) and acts on signals (a stop ends the step
   * with ECANCELED — not EINTR, which writers retry — and refuses any new one). Steps written at
   * once run one after another, in the order they came. The
   * slicing changes nothing in the simulation: the same events run in the same order.
   */
  advance(ns: number): Promise<void> {
    if (this.stopping) throw new FsError('ECANCELED', 'the daemon is stopping');
    if (this.runningValue !== 0)
      throw new FsError('EBUSY', 'advance_ns while the guest runs (write 0 to running first)');
    if (ns > MAX_ADVANCE_NS)
      throw new FsError('EINVAL', `advance_ns ${ns} above ${MAX_ADVANCE_NS}`);
    this.advancing += 1;
    const step = this.advances.then(() => this.runAdvance(ns));
    const settled = step.finally(() => (this.advancing -= 1));
    this.advances = settled.catch(() => undefined);
    return settled;
  }

  /**
   * `mount --lockstep`: runs `ns` simulated nanoseconds at once, without slices, so a reader sees
   * the guest before the step or after it, never part of the way. Returns false (and runs
   * nothing) while the guest runs on the wall clock, a step of `advance_ns` is in progress, or
   * the daemon is stopping.
   */
  stepAtOnce(ns: number): boolean {
    if (this.stopping || this.runningValue !== 0 || this.advancing > 0) return false;
    const target = this.machine.nowNs + ns;
    while (this.machine.nowNs < target)
      if (this.runTo(target, Infinity, () => false) === RunStop.JobFinished) break;
    return true;
  }

  /** Whether a step of `advance_ns` is in progress or waiting. */
  get stepping(): boolean {
    return this.advancing > 0;
  }

  private async runAdvance(ns: number): Promise<void> {
    const target = this.machine.nowNs + ns;
    while (this.machine.nowNs < target) {
      if (this.stopping) throw new FsError('ECANCELED', 'the daemon is stopping');
      const deadline = this.clockMs() + ADVANCE_SLICE_MS;
      while (this.machine.nowNs < target && this.clockMs() < deadline) {
        const r = this.runTo(target, EVENTS_PER_CHECK, () => false);
        if (r === RunStop.JobFinished) return;
      }
      if (this.machine.nowNs < target) await turn();
    }
  }

  /** Runs towards `target`, stopping at the end of a recording in progress (then ends it). */
  private runTo(target: number, maxEvents: number, stopped: () => boolean): RunStop {
    const stop = this.trace === null ? target : this.trace.nextStop(target);
    const r = this.clock.runTo(stop, maxEvents, stopped);
    this.trace?.update();
    this.onAdvanced?.();
    return r;
  }

  /** Starts advancing the simulation. */
  start(): void {
    this.startedMs = this.clockMs();
    this.lastStepMs = this.startedMs;
    this.anchor();
    this.timer = setInterval(() => {
      this.periods += 1;
      this.step();
    }, PERIOD_MS);
  }

  /** Tells the driver that a file operation arrived (see `queueSlice`). */
  noteOperation(): void {
    this.operations = true;
  }

  /** Queues the next slice: after pending I/O, or IO_PAUSE_MS later if file operations came. */
  private queueSlice(operations: boolean): void {
    const run = (): void => {
      this.again = null;
      this.step();
    };
    if (operations) {
      const t = setTimeout(run, IO_PAUSE_MS);
      this.again = () => clearTimeout(t);
    } else {
      const i = setImmediate(run);
      this.again = () => clearImmediate(i);
    }
  }

  /** Whether a slice is queued to run right after pending I/O (the simulation is behind). */
  get catchingUp(): boolean {
    return this.again !== null;
  }

  /** Stops advancing (for shutdown); a step of `advance_ns` in progress ends at its next slice. */
  stop(): void {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.again) this.again();
    this.again = null;
  }

  /** The `pvlockfs/running` knob: the u8 as written; nonzero runs. */
  readonly runningKnob = {
    get: (): number => this.runningValue,
    set: (v: number): void => {
      if ((v & 0xff) !== 0 && this.advancing > 0)
        throw new FsError('EBUSY', 'running while advance_ns is stepping the guest');
      const was = this.runningValue !== 0;
      this.runningValue = v & 0xff;
      const is = this.runningValue !== 0;
      if (is && !was) this.anchor();
    },
  };

  /** Advances the simulation towards the wall clock for at most one slice. */
  step(): void {
    const nowMs = this.clockMs();
    const sinceLastMs = nowMs - this.lastStepMs;
    this.lastStepMs = nowMs;
    if (this.runningValue === 0) return;
    if (sinceLastMs > MAX_LAG_MS) {
      // The timer itself did not fire (the process was stopped, e.g. SIGSTOP/SIGCONT, or got no
      // CPU): that is not the simulation being too slow. Resume from here without a warning.
      this.anchor();
      return;
    }
    const operations = this.operations;
    this.operations = false;
    const target = this.anchorSimNs + Math.floor((nowMs - this.anchorWallMs) * 1e6 * this.speed);
    const deadline = nowMs + SLICE_MS;
    const stopped = (): boolean => this.runningValue === 0;
    while (this.machine.nowNs < target && this.clockMs() < deadline && !stopped()) {
      this.runTo(target, EVENTS_PER_CHECK, stopped);
    }
    if (stopped()) return;
    // Still behind after a whole slice: the next one runs as soon as the file operations that
    // are waiting have been answered (a moment later while they keep coming), not at the next
    // tick of the period.
    if (this.machine.nowNs < target && this.again === null && this.timer !== null)
      this.queueSlice(operations);
    const lagMs = (target - this.machine.nowNs) / 1e6 / this.speed;
    if (lagMs > MAX_LAG_MS) {
      this.droppedLagMs += lagMs;
      if (!this.warned && this.clockMs() - this.startedMs >= WARMUP_MS) {
        this.warned = true;
        this.onBehind(
          (this.machine.nowNs - this.anchorSimNs) / ((this.clockMs() - this.anchorWallMs) * 1e6),
        );
      }
      this.anchor();
    }
  }

  private anchor(): void {
    this.anchorWallMs = this.clockMs();
    this.anchorSimNs = this.machine.nowNs;
  }
}
