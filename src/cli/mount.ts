import { performance } from 'node:perf_hooks';
import { Daemon, startDaemon } from '../app/daemon';
import { shownPath } from '../os/shown';
import { durationText } from '../app/duration';
import { logLine, sayLine } from '../os/stdio';
import { RuntimeError } from '../app/errors';
import type { Options } from './options';
import { startedDetached } from './background';

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
 * SIGUSR2: the daemon's memory, open files, simulated time, dropped backlog and driver periods
 * (diagnostics for long-running mounts; the periods let a test see the timer fire while paused).
 */
function diagnostics(d: Daemon): string {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
  const fs = d.fs;
  return `pvlockfs: rss ${mb(m.rss)} MiB, heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MiB, external ${mb(m.external)} MiB, array buffers ${mb(m.arrayBuffers)} MiB, open files ${fs.openCount} (captured text ${(fs.capturedCount / 1024).toFixed(1)} KiB, ${fs.evicted} closed to make room), simulated ${(d.machine.nowNs / 1e9).toFixed(1)} s, backlog dropped ${(d.driver.droppedLagMs / 1000).toFixed(1)} wall s, driver periods ${d.driver.periods}`;
}

/** The ready line: where, what, and how to stop it. */
function banner(d: Daemon, o: Options, detached: boolean): string {
  const c = o.sim;
  const who = d.plan.named
    ? `guests ${d.plan.guests.map((p) => `${p.name} (${p.cfg.lock}, ${p.cfg.vcpus} vCPUs, layout ${p.layout})`).join(', ')} on ${c.pcpus} pCPUs`
    : `${c.lock}, ${c.vcpus} vCPUs on ${c.pcpus} pCPUs`;
  // Each guest keeps its own kernel's layout; one guest's is said once, beside the rest.
  const layout = d.plan.named ? '' : `, layout ${o.layout}`;
  return `pvlockfs: mounted at ${shownPath(d.mnt)} (${who}, ${d.machine.hogCount} hogs, pinning ${c.pinning}, abi ${o.abi}${layout}, speed ${o.speed}${o.paused ? ', paused at 0 ns: echo N > pvlockfs/advance_ns steps it' : ''}${o.lockstepNs !== null ? `, lockstep: ${durationText(o.lockstepNs)} of simulated time at once every ${durationText(o.lockstepNs)}` : ''}${d.actions > 0 ? `, ${d.actions} scripted actions` : ''}); ${detached ? `pid ${process.pid}, in the background: umount ${shownPath(d.mnt)} or kill ${process.pid} unmounts` : 'Ctrl-C unmounts'}`;
}

/** `pvlockfs mount`: runs the live guest and serves it until SIGINT/SIGTERM (or an outside unmount). */
export async function mountCommand(o: Options): Promise<number> {
  // Listen for SIGINT/SIGTERM/SIGHUP before anything is mounted or announced: a supervisor may
  // stop the daemon the instant it reads the ready line (or earlier). A signal that arrives
  // while mounting is acted on as soon as the mount is up: unmount and exit.
  const signalled = waitForSignal();
  const detached = startedDetached();
  const d = await startDaemon(o, { say: sayLine, log: logLine });
  process.on('SIGUSR2', () => logLine(diagnostics(d)));
  sayLine(banner(d, o, detached));
  detachMount = () => d.detach();
  const watch = d.whenGone();
  const reason = await Promise.race([signalled, watch.gone]);
  watch.stop();
  d.stop();
  if (reason === 'gone') {
    d.mounted.release();
    sayLine(
      `pvlockfs: the mount at ${shownPath(d.mnt)} was removed from outside (umount); exiting`,
    );
    return 0;
  }
  const at = (await d.mounted.where()) ?? d.mnt;
  try {
    await d.mounted.unmount();
  } catch (e) {
    throw new RuntimeError(
      `${reason}: unmounting ${shownPath(at)} failed: ${(e as Error).message}`,
    );
  }
  sayLine(`pvlockfs: ${reason}: unmounted ${shownPath(at)}`);
  return 0;
}
