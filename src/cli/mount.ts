import { constants as fsc, promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DebugFs, MAX_CAPTURED_BYTES } from '../debugfs/fs';
import {
  FSTYPE,
  FuseLoadError,
  lazyUnmount,
  mountAt,
  mountFs,
  Mounted,
  sessionOpen,
  unmountDevice,
} from '../fuse/mount';
import { openPinnedDir, PinnedDir } from '../os/dir';
import { OsError, why } from '../os/errors';
import { shownPath } from '../os/shown';
import { logLine, sayLine } from '../os/stdio';
import { machinePort } from '../layout/port';
import { buildTree } from '../layout/tree';
import { Machine } from '../sim/machine';
import { shown } from './args';
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

/** Clears the stale mount at `at` (its daemon died), if it is pvlockfs's: another's is left alone. */
async function clearStale(at: string, say: (s: string) => void): Promise<void> {
  const m = await mountAt(at);
  if (m !== null && m.fstype !== FSTYPE)
    throw new RuntimeError(
      `${shownPath(at)} holds a stale mount of another filesystem (${shownPath(m.fstype)}); pvlockfs clears only its own: run 'umount -l ${shownPath(at)}' if it is not needed`,
    );
  say(`pvlockfs: ${shownPath(at)} holds a stale mount (its daemon died); clearing it`);
  if (!(await lazyUnmount(at)))
    throw new RuntimeError(
      `cannot clear the stale mount at ${shownPath(at)}: run 'umount -l ${shownPath(at)}' as root`,
    );
}

/**
 * Checks /dev/fuse and the mount point, clears a stale pvlockfs mount (a daemon that died), and
 * opens the mount point once (`openPinnedDir`: symlinks that another user can change are not
 * followed): the checks are made on that descriptor and root mounts exactly that directory, so
 * nobody can swap another directory in between. Returns it, and whether to pass `nonempty`
 * (only the default mount point's `.gitkeep` is allowed in it).
 */
export async function preflight(
  arg: string | undefined,
  say: (s: string) => void,
): Promise<{ dir: PinnedDir; nonempty: boolean }> {
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
  const shown = shownPath(abs);
  for (let clears = 0; ; clears++) {
    if (clears > MAX_CLEARS)
      throw new RuntimeError(
        `${shown}: a stale mount came back after ${MAX_CLEARS} clears; run 'umount -l ${shown}' as root`,
      );
    let dir: PinnedDir;
    try {
      dir = openPinnedDir(abs, { create: isDefault });
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOTCONN' || code === 'ECONNABORTED') {
        await clearStale(abs, say);
        continue;
      }
      if (e instanceof OsError && e.creating)
        throw new RuntimeError(`mount point ${shown}: ${e.message}`);
      if (code === 'ENOENT')
        throw new UsageError(
          `mountpoint ${shown} does not exist (expected an empty directory; create it with mkdir)`,
        );
      if (code === 'ENOTDIR')
        throw new UsageError(`mountpoint ${shown}: ${why(e)} (expected an empty directory)`);
      if (code === 'EACCES') throw new RuntimeError(`no permission to use ${shown}`);
      throw new RuntimeError(`cannot use ${shown}: ${why(e)}`);
    }
    const ok = await checkMountPoint(dir, isDefault, say).catch((e: unknown) => {
      dir.close();
      throw e;
    });
    if (ok === 'stale') {
      dir.close();
      continue;
    }
    return { dir, nonempty: ok === 'placeholder' };
  }
}

/**
 * The checks on the opened mount point: not a mount point already (a stale pvlockfs one is
 * cleared: 'stale', try again), and empty — but for the default mount point's placeholder
 * ('placeholder': mount with `nonempty`).
 */
async function checkMountPoint(
  dir: PinnedDir,
  isDefault: boolean,
  say: (s: string) => void,
): Promise<'empty' | 'placeholder' | 'stale'> {
  const mnt = dir.path;
  if ((await mountAt(mnt)) !== null) {
    if (await served(mnt))
      throw new RuntimeError(
        `${shownPath(mnt)} is already a mount point (unmount it first, e.g. 'umount ${shownPath(mnt)}')`,
      );
    await clearStale(mnt, say);
    return 'stale';
  }
  const entries = await fsp.readdir(dir.self);
  const others = entries.filter((n) => !(isDefault && n === PLACEHOLDER));
  if (others.length > 0)
    throw new UsageError(
      `mountpoint ${shownPath(mnt)} is not empty (expected an empty directory; it holds ${others.slice(0, 3).map(shown).join(', ')}${others.length > 3 ? ', …' : ''})`,
    );
  return entries.length > 0 ? 'placeholder' : 'empty';
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
 * Whether SIGHUP was ignored when pvlockfs was started (`nohup`): then it stays ignored, as the
 * user asked. Node resets every signal before any of this runs, so the launcher, which saw the
 * disposition, says it in the environment (taken out again: the commands started later must not
 * inherit it).
 */
function hangupIgnored(): boolean {
  const ignored = process.env.PVLOCKFS_HUP_IGNORED === '1';
  delete process.env.PVLOCKFS_HUP_IGNORED;
  return ignored;
}

/**
 * Resolves with the first of SIGINT, SIGTERM, SIGHUP (not SIGHUP when it was ignored at start).
 * One that comes again later means the unmount is taking too long: the mount is detached (a lazy
 * unmount, so nothing is left mounted) and the daemon exits 1; a third exits at once.
 */
function waitForSignal(): Promise<NodeJS.Signals> {
  const ignoreHup = hangupIgnored();
  // Node's own default for SIGHUP would end the process (leaving the mount dead): a listener
  // that does nothing keeps it ignored.
  if (ignoreHup) process.on('SIGHUP', () => undefined);
  const signals: NodeJS.Signals[] = ignoreHup
    ? ['SIGINT', 'SIGTERM']
    : ['SIGINT', 'SIGTERM', 'SIGHUP'];
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
      logLine(`pvlockfs: ${sig} again: detaching the mount and exiting`);
      void detachMount().finally(() => process.exit(1));
    };
    for (const s of signals) process.on(s, on);
  });
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

/** `pvlockfs mount`: runs the live guest and serves it until SIGINT/SIGTERM (or an outside unmount). */
export async function mountCommand(o: Options): Promise<number> {
  // Listen for SIGINT/SIGTERM/SIGHUP before anything is mounted or announced: a supervisor may
  // stop the daemon the instant it reads the ready line (or earlier). A signal that arrives
  // while mounting is acted on as soon as the mount is up: unmount and exit.
  const signalled = waitForSignal();
  // A bad script is refused before anything is mounted.
  const plans = planGuests(o.sim, o.guests);
  const actions = o.script === null ? [] : await loadScript(o.script, o.layout, plans);
  const traceDir = traceDirOf(o.traceDir);
  const { dir, nonempty } = await preflight(o.positional[0], sayLine);
  const mnt = dir.path;
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
      logLine(
        `pvlockfs: the simulation cannot keep up with speed ${o.speed}: it reaches about ${reached < 10 ? reached.toFixed(2) : Math.round(reached)} simulated ns per wall ns here, and simulated time falls behind the wall clock (the files stay consistent; a lower --speed or a smaller guest keeps up)`,
      ),
    { paused: o.paused },
  );
  const control = { ...driver.runningKnob, advance: (ns: number) => driver.advance(ns) };
  const meta = { generator: 'pvlockfs mount', seed: o.sim.seed, layout: o.layout, config: o.sim };
  const trace = new LiveTrace(machine, traceDir, o.trace.maxBytes, meta, logLine);
  driver.trace = trace;
  const extra = {
    abi: o.abi,
    speed: o.speed,
    layout: o.layout,
    trace_dir: shownPath(traceDir.path, 4096),
  };
  // Several guests: one root per guest, and the host's controls with the timeline recorder.
  const root =
    plans.length > 0
      ? guestsTree(machine, plans, extra, control, o.abi, Date.now(), trace)
      : buildTree(machinePort(machine, extra, control, trace), o.abi, Date.now(), o.layout);
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
      log: logLine,
      onOperation: () => driver.noteOperation(),
    });
  } catch (e) {
    if (e instanceof FuseLoadError) throw new RuntimeError(e.message);
    throw new RuntimeError(`cannot mount ${shownPath(mnt)}: ${(e as Error).message}`);
  }
  driver.start();
  // SIGUSR2 prints the daemon's memory and open-file count (diagnostics for long-running mounts).
  process.on('SIGUSR2', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
    logLine(
      `pvlockfs: rss ${mb(m.rss)} MiB, heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MiB, external ${mb(m.external)} MiB, array buffers ${mb(m.arrayBuffers)} MiB, open files ${fs.openCount} (captured text ${(fs.capturedCount / 1024).toFixed(1)} KiB, ${fs.evicted} closed to make room), simulated ${(machine.nowNs / 1e9).toFixed(1)} s, backlog dropped ${(driver.droppedLagMs / 1000).toFixed(1)} wall s`,
    );
  });
  const c = o.sim;
  const who =
    plans.length > 0
      ? `guests ${plans.map((p) => `${p.name} (${p.cfg.lock}, ${p.cfg.vcpus} vCPUs)`).join(', ')} on ${c.pcpus} pCPUs`
      : `${c.lock}, ${c.vcpus} vCPUs on ${c.pcpus} pCPUs`;
  sayLine(
    `pvlockfs: mounted at ${shownPath(mnt)} (${who}, ${machine.hogCount} hogs, pinning ${c.pinning}, abi ${o.abi}, layout ${o.layout}, speed ${o.speed}${o.paused ? ', paused at 0 ns: echo N > pvlockfs/advance_ns steps it' : ''}${actions.length > 0 ? `, ${actions.length} scripted actions` : ''}); Ctrl-C unmounts`,
  );
  detachMount = () => unmountDevice(mounted.dev);
  const watch = mountGone();
  const reason = await Promise.race([signalled, watch.gone]);
  watch.stop();
  driver.stop();
  // A recording in progress is ended and written: nothing recorded is lost.
  trace.finish();
  if (reason === 'gone') {
    mounted.release();
    sayLine(`pvlockfs: the mount at ${shownPath(mnt)} was removed from outside (umount); exiting`);
    return 0;
  }
  const at = (await mounted.where()) ?? mnt;
  try {
    await mounted.unmount();
  } catch (e) {
    throw new RuntimeError(
      `${reason}: unmounting ${shownPath(at)} failed: ${(e as Error).message}`,
    );
  }
  sayLine(`pvlockfs: ${reason}: unmounted ${shownPath(at)}`);
  return 0;
}
