import { constants as fsc, promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DebugFs } from '../debugfs/fs';
import { FuseLoadError, lazyUnmount, mountAt, mountFs, Mounted, sessionOpen } from '../fuse/mount';
import { machinePort } from '../layout/port';
import { buildTree } from '../layout/tree';
import { Machine } from '../sim/machine';
import { shown } from './args';
import { makeDirs, why } from './dirs';
import { errnoOf, RuntimeError, UsageError } from './errors';
import { LiveDriver } from './live';
import { LiveTrace } from './live-trace';
import { planGuests } from './guests';
import { guestsTree } from './mount-guests';
import { loadScript, ScriptedClock, writeThrough } from './script';
import type { Options } from './options';

const DEFAULT_MOUNTPOINT = './mount';
/** The one file git keeps in the default mount point; it may be mounted over. */
const PLACEHOLDER = '.gitkeep';

/** How long a mount point may take to answer a directory read before it counts as hung. */
const PROBE_MS = 5000;
/** Stale mounts cleared at one path before giving up (each clear is one lazy unmount). */
const MAX_CLEARS = 3;

/**
 * Whether the FUSE mount at `path` is served: a directory read reaches its daemon. Right after a
 * daemon is killed, `stat` of the mount point still succeeds for up to a second from the
 * kernel's attribute cache, so only a real request tells a stale mount from a live one.
 */
async function served(path: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), PROBE_MS)));
  try {
    const r = await Promise.race([
      fsp.readdir(path).then(
        () => 'ok' as const,
        (e: unknown) => errnoOf(e),
      ),
      hung,
    ]);
    if (r === 'hung')
      throw new RuntimeError(
        `${path} is a mount point that does not answer (its daemon is stopped or hung; 'umount -l ${path}' clears it)`,
      );
    return r !== 'ENOTCONN' && r !== 'ECONNABORTED';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks /dev/fuse and the mount point, clears a stale mount (a daemon that died) and resolves
 * the mount point once (symlinks followed), so that what is mounted is what is unmounted.
 * Returns the resolved mount point and whether to pass `nonempty`.
 */
export async function preflight(
  arg: string | undefined,
  say: (s: string) => void,
): Promise<{ mnt: string; nonempty: boolean }> {
  try {
    await fsp.access('/dev/fuse', fsc.R_OK | fsc.W_OK);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT')
      throw new RuntimeError(
        '/dev/fuse does not exist: this machine has no FUSE (load the fuse module, or give the container --device /dev/fuse)',
      );
    throw new RuntimeError(
      'no permission to use /dev/fuse: run as root (or a user allowed to mount FUSE filesystems)',
    );
  }
  const isDefault = arg === undefined;
  const abs = resolve(arg ?? DEFAULT_MOUNTPOINT);
  const clear = async (at: string): Promise<void> => {
    say(`pvlockfs: ${at} holds a stale mount (its daemon died); clearing it`);
    if (!(await lazyUnmount(at)))
      throw new RuntimeError(
        `cannot clear the stale mount at ${at}: run 'umount -l ${at}' as root`,
      );
  };
  for (let clears = 0; ; clears++) {
    if (clears > MAX_CLEARS)
      throw new RuntimeError(
        `${abs}: a stale mount came back after ${MAX_CLEARS} clears; run 'umount -l ${abs}' as root`,
      );
    let mnt: string;
    let st;
    try {
      if (isDefault) await makeDirs(abs, `mount point ${abs}`);
      mnt = await fsp.realpath(abs);
      st = await fsp.stat(mnt);
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOTCONN' || code === 'ECONNABORTED') {
        await clear(abs);
        continue;
      }
      if (e instanceof UsageError || e instanceof RuntimeError) throw e;
      if (code === 'ENOENT')
        throw new UsageError(
          `mountpoint ${abs} does not exist (expected an empty directory; create it with mkdir)`,
        );
      if (code === 'EACCES') throw new RuntimeError(`no permission to use ${abs}`);
      throw new RuntimeError(`cannot use ${abs}: ${why(e)}`);
    }
    if (!st.isDirectory())
      throw new UsageError(`mountpoint ${mnt} is not a directory (expected an empty directory)`);
    if ((await mountAt(mnt)) !== null) {
      if (await served(mnt))
        throw new RuntimeError(
          `${mnt} is already a mount point (unmount it first, e.g. 'umount ${mnt}')`,
        );
      await clear(mnt);
      continue;
    }
    const entries = await fsp.readdir(mnt);
    const others = entries.filter((n) => n !== PLACEHOLDER);
    if (others.length > 0)
      throw new UsageError(
        `mountpoint ${mnt} is not empty (expected an empty directory; it holds ${others.slice(0, 3).map(shown).join(', ')}${others.length > 3 ? ', …' : ''})`,
      );
    try {
      await fsp.access(dirname(mnt), fsc.X_OK);
    } catch {
      throw new RuntimeError(`no permission to use ${mnt}`);
    }
    return { mnt, nonempty: entries.length > 0 };
  }
}

/** How often the daemon checks that its mount is still there (an admin may `umount` it). */
const WATCH_MS = 1000;

/**
 * Resolves when the FUSE session has ended by itself: the mount was unmounted from outside (and
 * its last open file closed), so libfuse's loop closed the channel.
 */
function mountGone(): { gone: Promise<'gone'>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<'gone'>((res) => {
    timer = setInterval(() => void sessionOpen().then((open) => !open && res('gone')), WATCH_MS);
  });
  return { gone, stop: () => clearInterval(timer) };
}

/**
 * A second signal within this long of the first is the same request: timeout(1) and many
 * supervisors send a signal to the daemon and to its process group at once, so it arrives twice.
 */
const SAME_REQUEST_MS = 1000;

/** What a later signal does before the daemon exits: detach the mount (set once it is up). */
let detachMount: () => Promise<unknown> = () => Promise.resolve();

/**
 * Resolves with the first of SIGINT, SIGTERM, SIGHUP. One that comes again later means the
 * unmount is taking too long: the mount is detached (a lazy unmount, so nothing is left mounted)
 * and the daemon exits 1; a third exits at once.
 */
function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    let firstAtMs = -1;
    let forcing = false;
    const on = (sig: NodeJS.Signals): void => {
      const nowMs = performance.now();
      if (firstAtMs < 0) {
        firstAtMs = nowMs;
        resolveSignal(sig);
        return;
      }
      if (nowMs - firstAtMs < SAME_REQUEST_MS) return;
      if (forcing) process.exit(1);
      forcing = true;
      process.stderr.write(`pvlockfs: ${sig} again: detaching the mount and exiting\n`);
      void detachMount().finally(() => process.exit(1));
    };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, on);
  });
}

/**
 * The directory recordings go into: `--trace-dir` must be a directory (refused at start
 * otherwise); the default, the working directory, is checked only when a recording starts.
 */
async function traceDirOf(dir: string | null): Promise<string> {
  if (dir === null) return process.cwd();
  const abs = resolve(dir);
  let st;
  try {
    st = await fsp.stat(abs);
  } catch (e) {
    throw new UsageError(`--trace-dir ${dir}: ${why(e)}`);
  }
  if (!st.isDirectory()) throw new UsageError(`--trace-dir ${dir}: not a directory`);
  return abs;
}

/** `pvlockfs mount`: runs the live guest and serves it until SIGINT/SIGTERM (or an outside unmount). */
export async function mountCommand(o: Options): Promise<number> {
  // Listen for SIGINT/SIGTERM/SIGHUP before anything is mounted or announced: a supervisor may
  // stop the daemon the instant it reads the ready line (or earlier). A signal that arrives
  // while mounting is acted on as soon as the mount is up: unmount and exit.
  const signalled = waitForSignal();
  const say = (s: string): void => void process.stdout.write(`${s}\n`);
  // A bad script is refused before anything is mounted.
  const plans = planGuests(o.sim, o.guests);
  const actions = o.script === null ? [] : await loadScript(o.script, o.layout, plans);
  const traceDir = await traceDirOf(o.traceDir);
  const { mnt, nonempty } = await preflight(o.positional[0], say);
  const machine =
    plans.length > 0
      ? new Machine(
          o.sim,
          plans.map((p) => ({ name: p.name, cfg: p.cfg })),
        )
      : new Machine(o.sim);
  const driver = new LiveDriver(
    machine,
    o.speed,
    (reached) =>
      process.stderr.write(
        `pvlockfs: the simulation cannot keep up with speed ${o.speed}: it reaches about ${reached < 10 ? reached.toFixed(2) : Math.round(reached)} simulated ns per wall ns here, and simulated time falls behind the wall clock (the files stay consistent; a lower --speed or a smaller guest keeps up)\n`,
      ),
    { paused: o.paused },
  );
  const control = { ...driver.runningKnob, advance: (ns: number) => driver.advance(ns) };
  const meta = { generator: 'pvlockfs mount', seed: o.sim.seed, layout: o.layout, config: o.sim };
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  const trace = new LiveTrace(machine, traceDir, o.trace.maxBytes, meta, log);
  driver.trace = trace;
  const extra = { abi: o.abi, speed: o.speed, layout: o.layout, trace_dir: traceDir };
  // Several guests: one root per guest, and the host's controls with the timeline recorder.
  const root =
    plans.length > 0
      ? guestsTree(machine, plans, extra, control, o.abi, Date.now(), trace)
      : buildTree(machinePort(machine, extra, control, trace), o.abi, Date.now(), o.layout);
  const fs = new DebugFs(root, o.abi, () => Date.now());
  fs.onWritten = (name, value) => trace.knob(name, value);
  driver.useClock(new ScriptedClock(machine, actions, writeThrough(fs)));
  let mounted: Mounted;
  try {
    mounted = await mountFs(fs, {
      mountpoint: mnt,
      debug: o.debug,
      nonempty,
      log: (l) => process.stderr.write(`${l}\n`),
      onOperation: () => driver.noteOperation(),
    });
  } catch (e) {
    if (e instanceof FuseLoadError) throw new RuntimeError(e.message);
    throw new RuntimeError(`cannot mount ${mnt}: ${(e as Error).message}`);
  }
  driver.start();
  // SIGUSR2 prints the daemon's memory and open-file count (diagnostics for long-running mounts).
  process.on('SIGUSR2', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
    process.stderr.write(
      `pvlockfs: rss ${mb(m.rss)} MiB, heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MiB, external ${mb(m.external)} MiB, array buffers ${mb(m.arrayBuffers)} MiB, open files ${fs.openCount}, simulated ${(machine.nowNs / 1e9).toFixed(1)} s, backlog dropped ${(driver.droppedLagMs / 1000).toFixed(1)} wall s\n`,
    );
  });
  const c = o.sim;
  const who =
    plans.length > 0
      ? `guests ${plans.map((p) => `${p.name} (${p.cfg.lock}, ${p.cfg.vcpus} vCPUs)`).join(', ')} on ${c.pcpus} pCPUs`
      : `${c.lock}, ${c.vcpus} vCPUs on ${c.pcpus} pCPUs`;
  say(
    `pvlockfs: mounted at ${mnt} (${who}, ${machine.hogCount} hogs, pinning ${c.pinning}, abi ${o.abi}, layout ${o.layout}, speed ${o.speed}${o.paused ? ', paused at 0 ns: echo N > pvlockfs/advance_ns steps it' : ''}${actions.length > 0 ? `, ${actions.length} scripted actions` : ''}); Ctrl-C unmounts`,
  );
  detachMount = async () => lazyUnmount((await mounted.where()) ?? mnt);
  const watch = mountGone();
  const reason = await Promise.race([signalled, watch.gone]);
  watch.stop();
  driver.stop();
  // A recording in progress is ended and written: nothing recorded is lost.
  trace.finish();
  if (reason === 'gone') {
    mounted.release();
    say(`pvlockfs: the mount at ${mnt} was removed from outside (umount); exiting`);
    return 0;
  }
  const at = (await mounted.where()) ?? mnt;
  try {
    await mounted.unmount();
  } catch (e) {
    throw new RuntimeError(
      `${reason}: unmounting ${at} failed: ${(e as Error).message}; run 'umount -l ${at}'`,
    );
  }
  say(`pvlockfs: ${reason}: unmounted ${at}`);
  return 0;
}
