import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { HISTO_NAMES, SCALAR_NAMES } from '../layout/tree';
import { readSmallFile } from '../os/small-file';
import { shownPath } from '../os/shown';
import { RuntimeError } from './errors';
import { parseHisto } from './histo';
import type { Sample } from '../render/top';

export type { Sample } from '../render/top';

const SCALARS = SCALAR_NAMES;
const HISTOS = HISTO_NAMES;

/**
 * Reads the 11 files of a kvm/spinlocks directory, and from a pvlockfs mount's control directory
 * (`control`, null for a real guest's debugfs) the simulated time, the hogs and the spinning on
 * preempted holders.
 */
export async function readSample(
  dir: string,
  atMs: number,
  control: string | null = null,
): Promise<Sample> {
  const v = {} as Sample['v'];
  const h = {} as Sample['h'];
  const num = async (path: string): Promise<number> => Number((await readSmallFile(path)).trim());
  const [host] = await Promise.all([
    control === null
      ? Promise.resolve(undefined)
      : Promise.all(
          ['sim_time_ns', 'hogs', 'holder_preempted_ns'].map((f) => num(join(control, f))),
        ).then(([simNs, hogs, holderPreemptedNs]) => ({ simNs, hogs, holderPreemptedNs })),
    ...SCALARS.map(async (f) => (v[f] = await num(join(dir, f)))),
    ...HISTOS.map(
      async (f) => (h[f] = parseHisto(await readSmallFile(join(dir, f)), join(dir, f))),
    ),
  ]);
  return host === undefined ? { atMs, v, h } : { atMs, v, h, host };
}

/**
 * The control directory of the pvlockfs mount a statistics directory belongs to (`pvlockfs/`
 * beside `kvm/`), or null for a real guest's debugfs.
 */
export async function controlDirOf(sl: string): Promise<string | null> {
  const control = join(sl, '..', '..', 'pvlockfs');
  return fsp.access(join(control, 'holder_preempted_ns')).then(
    () => control,
    () => null,
  );
}

/**
 * Finds the statistics directory under DIR (a debugfs root or the directory itself): the RFC's
 * kvm/spinlocks or Xen's xen/spinlocks, which has the same files and more. The later layouts
 * (kvm-guest/spinlocks, qlockstat) keep other files and are refused with a pointer to them.
 */
export async function spinlocksDir(dir: string): Promise<string> {
  const has = (p: string): Promise<boolean> =>
    fsp.access(p).then(
      () => true,
      () => false,
    );
  for (const candidate of [join(dir, 'kvm', 'spinlocks'), join(dir, 'xen', 'spinlocks'), dir]) {
    if (await has(join(candidate, 'histo_total'))) return candidate;
  }
  const guests = await readSmallFile(join(dir, 'pvlockfs', 'guests')).catch(() => null);
  if (guests !== null) {
    const names = guests
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ')[0]);
    throw new RuntimeError(
      `${shownPath(dir)} is the root of several guests (${names.join(', ')}): give one, e.g. pvlockfs top ${shownPath(join(dir, names[0] ?? 'NAME'))}`,
    );
  }
  for (const later of ['kvm-guest/spinlocks', 'qlockstat']) {
    if (await has(join(dir, later))) {
      throw new RuntimeError(
        `${shownPath(join(dir, later))}: top shows the RFC's layout (kvm/spinlocks) and Xen's (xen/spinlocks); read this one with cat or grep -r .`,
      );
    }
  }
  throw new RuntimeError(
    `${shownPath(dir)} has no kvm/spinlocks directory (expected a pvlockfs mount or a debugfs root such as /sys/kernel/debug)`,
  );
}
