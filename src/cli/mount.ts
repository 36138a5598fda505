import { constants as fsc, promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DebugFs } from '../debugfs/fs';
import { FuseLoadError, isMounted, lazyUnmount, mountFs, Mounted } from '../fuse/mount';
import { machinePort } from '../layout/port';
import { buildTree } from '../layout/tree';
import { Machine } from '../sim/machine';
import { errnoOf, RuntimeError, UsageError } from './errors';
import { LiveDriver } from './live';
import type { Options } from './options';

const DEFAULT_MOUNTPOINT = './mount';
/** The one file git keeps in the default mount point; it may be mounted over. */
const PLACEHOLDER = '.gitkeep';

/** Checks /dev/fuse and the mountpoint; clears a stale mount; returns whether to pass `nonempty`. */
export async function preflight(mnt: string, isDefault: boolean, say: (s: string) => void): Promise<boolean> {
  try {
    await fsp.access('/dev/fuse', fsc.R_OK | fsc.W_OK);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') throw new RuntimeError('/dev/fuse does not exist: this machine has no FUSE (load the fuse module, or give the container --device /dev/fuse)');
    throw new RuntimeError('no permission to use /dev/fuse: run as root (or a user allowed to mount FUSE filesystems)');
  }
  let st;
  try {
    st = await fsp.stat(mnt);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOTCONN' || code === 'ECONNABORTED') {
      say(`pvlockfs: ${mnt} holds a stale mount (its daemon died); clearing it`);
      if (!(await lazyUnmount(mnt))) throw new RuntimeError(`cannot clear the stale mount at ${mnt}: run 'umount -l ${mnt}' as root`);
      return preflight(mnt, isDefault, say);
    }
    if (code === 'ENOENT' && isDefault) {
      await fsp.mkdir(mnt, { recursive: true });
      return false;
    }
    if (code === 'ENOENT') throw new UsageError(`mountpoint ${mnt} does not exist (expected an empty directory; create it with mkdir)`);
    if (code === 'EACCES') throw new RuntimeError(`no permission to use ${mnt}`);
    throw new RuntimeError(`cannot use ${mnt}: ${(e as Error).message}`);
  }
  if (!st.isDirectory()) throw new UsageError(`mountpoint ${mnt} is not a directory (expected an empty directory)`);
  if (await isMounted(mnt)) throw new RuntimeError(`${mnt} is already a mount point (unmount it first, e.g. 'umount ${mnt}')`);
  const entries = await fsp.readdir(mnt);
  const others = entries.filter((n) => n !== PLACEHOLDER);
  if (others.length > 0) throw new UsageError(`mountpoint ${mnt} is not empty (expected an empty directory; it holds ${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''})`);
  try {
    await fsp.access(dirname(mnt), fsc.X_OK);
  } catch {
    throw new RuntimeError(`no permission to use ${mnt}`);
  }
  return entries.length > 0;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    let seen = 0;
    const on = (sig: NodeJS.Signals): void => {
      seen += 1;
      if (seen === 1) resolveSignal(sig);
      else {
        process.stderr.write(`pvlockfs: ${sig} again, exiting without waiting for the unmount\n`);
        process.exit(1);
      }
    };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, on);
  });
}

/** `pvlockfs mount`: runs the live guest and serves it until SIGINT/SIGTERM. */
export async function mountCommand(o: Options): Promise<number> {
  if (o.positional.length > 1) throw new UsageError(`mount takes one mountpoint, got ${o.positional.length}: ${o.positional.join(' ')}`);
  const isDefault = o.positional.length === 0;
  const mnt = resolve(o.positional[0] ?? DEFAULT_MOUNTPOINT);
  const say = (s: string): void => void process.stdout.write(`${s}\n`);
  const nonempty = await preflight(mnt, isDefault, say);
  const machine = new Machine(o.sim);
  const driver = new LiveDriver(machine, o.speed, (reached) =>
    process.stderr.write(`pvlockfs: the simulation cannot keep up with speed ${o.speed}: it reaches about ${reached < 10 ? reached.toFixed(2) : Math.round(reached)} simulated ns per wall ns here, and simulated time falls behind the wall clock (the files stay consistent; a lower --speed or a smaller guest keeps up)\n`),
  );
  const port = machinePort(machine, { abi: o.abi, speed: o.speed, layout: o.layout }, driver.runningKnob);
  const fs = new DebugFs(buildTree(port, o.abi, Date.now(), o.layout), o.abi, () => Date.now());
  let mounted: Mounted;
  try {
    mounted = await mountFs(fs, { mountpoint: mnt, debug: o.debug, nonempty, log: (l) => process.stderr.write(`${l}\n`) });
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
    process.stderr.write(`pvlockfs: rss ${mb(m.rss)} MiB, heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MiB, external ${mb(m.external)} MiB, array buffers ${mb(m.arrayBuffers)} MiB, open files ${fs.openCount}, simulated ${(machine.nowNs / 1e9).toFixed(1)} s, backlog dropped ${(driver.droppedLagMs / 1000).toFixed(1)} wall s\n`);
  });
  const c = o.sim;
  say(`pvlockfs: mounted at ${mnt} (${c.lock}, ${c.vcpus} vCPUs on ${c.pcpus} pCPUs, ${machine.hogCount} hogs, pinning ${c.pinning}, abi ${o.abi}, layout ${o.layout}, speed ${o.speed}); Ctrl-C unmounts`);
  const sig = await waitForSignal();
  driver.stop();
  try {
    await mounted.unmount();
  } catch (e) {
    throw new RuntimeError(`${sig}: unmounting ${mnt} failed: ${(e as Error).message}; run 'umount -l ${mnt}'`);
  }
  say(`pvlockfs: ${sig}: unmounted ${mnt}`);
  return 0;
}
