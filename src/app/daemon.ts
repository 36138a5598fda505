import { DebugFs, MAX_CAPTURED_BYTES } from '../debugfs/fs';
import type { Abi } from '../debugfs/parse';
import { bindingLine, loadBinding } from '../fuse/binding';
import { FuseLoadError, mountFs, Mounted, sessionOpen, unmountDevice } from '../fuse/mount';
import { applyFailSpec, FailSpec } from '../faults/boot';
import { Faults } from '../faults/faults';
import { openAccessLog } from './access-log';
import { addFaultControl } from '../layout/faults';
import type { Layout } from '../layout/tree';
import { openPinnedDir, PinnedDir } from '../os/dir';
import { why } from '../os/errors';
import { shownPath } from '../os/shown';
import type { SimConfig } from '../sim/config';
import type { Machine } from '../sim/machine';
import { RuntimeError, UsageError } from './errors';
import { planTree } from './host-tree';
import { LiveDriver } from './live';
import { LiveTrace } from './live-trace';
import { preflight } from './mount-point';
import { GuestRequest, machineOf, RunPlan, runPlan, scriptGuests } from './plan';
import { loadScript, ScriptedClock, writeThrough } from './script';

/** What a mount is asked for (the `mount` command's options). */
export interface DaemonRequest {
  sim: SimConfig;
  layout: Layout;
  guests: readonly GuestRequest[];
  /** The mount point, the first and only positional argument (none: the default ./mount). */
  positional: readonly string[];
  script: string | null;
  traceDir: string | null;
  trace: { maxBytes: number };
  abi: Abi;
  speed: number;
  paused: boolean;
  /** Lock-step: every this many wall ns, this many simulated ns at once (null: off). */
  lockstepNs: number | null;
  debug: boolean;
  maxOpenFiles: number;
  /** Faults armed at start (`--fail`). */
  fails: readonly FailSpec[];
  /** Where the access log goes (null: none). */
  accessLog: string | null;
}

/** Where the daemon's lines go: standard output (`say`) and diagnostics (`log`). */
export interface DaemonOutput {
  say(line: string): void;
  log(line: string): void;
}

/** A mounted, running guest (or host of guests). */
export interface Daemon {
  readonly plan: RunPlan;
  readonly machine: Machine;
  readonly driver: LiveDriver;
  readonly fs: DebugFs;
  readonly mounted: Mounted;
  /** Where it is mounted (as opened). */
  readonly mnt: string;
  /** How many scripted actions it will apply. */
  readonly actions: number;
  /** Stops the simulation and ends a recording in progress (its file is written). */
  stop(): void;
  /** Detaches every mount of it at once (a lazy unmount), for a daemon that must exit now. */
  detach(): Promise<unknown>;
  /** Resolves once the mount was removed from outside (see `mountGone`). */
  whenGone(): { gone: Promise<'gone'>; stop(): void };
}

/** How often the daemon checks that its mount is still there (an admin may `umount` it). */
const WATCH_MS = 1000;

/**
 * Resolves when the FUSE session has ended by itself: the mount was unmounted from outside (and
 * its last open file closed), so libfuse's loop closed the channel.
 */
export function mountGone(): { gone: Promise<'gone'>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<'gone'>((res) => {
    timer = setInterval(() => void sessionOpen().then((open) => !open && res('gone')), WATCH_MS);
  });
  return { gone, stop: () => clearInterval(timer) };
}

/**
 * `--lockstep`: every `ns` of wall time the stopped guest runs `ns` of simulated time at once, so
 * an agent that reads once per interval of that length (and computes rates per wall second)
 * sees exactly one step between two readings. A tick that finds the guest running (running=1)
 * or stepped by hand is skipped.
 */
function startLockstep(driver: LiveDriver, ns: number): NodeJS.Timeout {
  return setInterval(() => driver.stepAtOnce(ns), ns / 1e6);
}

/**
 * The directory recordings go into, opened once now: `--trace-dir` must be a directory (refused at
 * start otherwise); the default is the working directory.
 */
function traceDirOf(dir: string | null): PinnedDir {
  try {
    return openPinnedDir(dir ?? process.cwd());
  } catch (e) {
    if (dir === null) throw new RuntimeError(`the working directory: ${why(e)}`);
    throw new UsageError(`--trace-dir ${shownPath(dir)}: ${why(e)}`);
  }
}

/**
 * Checks everything, builds the guest (or guests), mounts it and starts its clock. A bad script,
 * trace directory or mount point is refused before anything is mounted.
 */
export async function startDaemon(o: DaemonRequest, out: DaemonOutput): Promise<Daemon> {
  const plan = runPlan(o.sim, o.layout, o.guests);
  const actions = o.script === null ? [] : await loadScript(o.script, o.layout, scriptGuests(plan));
  const traceDir = traceDirOf(o.traceDir);
  const { dir, nonempty } = await preflight(o.positional[0], out.say);
  const mnt = dir.path;
  const machine = machineOf(plan);
  const driver = new LiveDriver(
    machine,
    o.speed,
    (reached) =>
      out.log(
        `pvlockfs: the simulation cannot keep up with speed ${o.speed}: it reaches about ${reached < 10 ? reached.toFixed(2) : Math.round(reached)} simulated ns per wall ns here, and simulated time falls behind the wall clock (the files stay consistent; a lower --speed or a smaller guest keeps up)`,
      ),
    { paused: o.paused || o.lockstepNs !== null },
  );
  const control = { ...driver.runningKnob, advance: (ns: number) => driver.advance(ns) };
  const meta = { generator: 'pvlockfs mount', seed: o.sim.seed, layout: o.layout, config: o.sim };
  const trace = new LiveTrace(machine, traceDir, o.trace.maxBytes, meta, out.log);
  driver.trace = trace;
  const extra = {
    abi: o.abi,
    speed: o.speed,
    layout: o.layout,
    trace_dir: shownPath(traceDir.path, 4096),
  };
  const { root, counters } = planTree(plan, machine, {
    extra,
    control,
    abi: o.abi,
    nowMs: Date.now(),
    trace,
  });
  const faults = new Faults(o.sim.seed, () => machine.nowNs);
  faults.onLog = out.log;
  for (const f of o.fails) applyFailSpec(faults, f);
  const access = o.accessLog === null ? null : openAccessLog(o.accessLog, machine, out.log);
  addFaultControl(root, faults, Date.now());
  driver.onAdvanced = () => {
    faults.clockAdvanced();
    counters.clockAdvanced();
  };
  const fs = new DebugFs(root, o.abi, () => Date.now(), {
    handles: o.maxOpenFiles,
    capturedBytes: MAX_CAPTURED_BYTES,
  });
  fs.onWritten = (name, value) => trace.knob(name, value);
  driver.useClock(new ScriptedClock(machine, actions, writeThrough(fs)));
  let mounted: Mounted;
  try {
    mounted = await mountFs(fs, {
      // Root mounts the directory it checked, through its descriptor; fusermount (for other
      // users) is another process, which is given the path.
      mountpoint: process.geteuid?.() === 0 ? dir.self : mnt,
      at: () => dir.now(),
      debug: o.debug,
      nonempty,
      log: out.log,
      onOperation: () => driver.noteOperation(),
      faults,
      accessLog: access?.sink,
    });
  } catch (e) {
    access?.close();
    if (e instanceof FuseLoadError) throw new RuntimeError(e.message);
    throw new RuntimeError(`cannot mount ${shownPath(mnt)}: ${(e as Error).message}`);
  }
  const binding = loadBinding();
  // The patched binding is the normal case; fuse-native's own is said once, with its limits.
  if (binding.kind === 'stock') out.log(`pvlockfs: ${bindingLine(binding)}`);
  driver.start();
  const lockstep = o.lockstepNs === null ? null : startLockstep(driver, o.lockstepNs);
  return {
    plan,
    machine,
    driver,
    fs,
    mounted,
    mnt,
    actions: actions.length,
    stop: () => {
      if (lockstep !== null) clearInterval(lockstep);
      driver.stop();
      // Stalled readers are answered (as usual) before the mount goes.
      faults.releaseAll();
      access?.close();
      // A recording in progress is ended and written: nothing recorded is lost.
      trace.finish();
    },
    detach: () => unmountDevice(mounted.dev),
    whenGone: mountGone,
  };
}
