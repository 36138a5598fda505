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

/** Reads the 11 files of a kvm/spinlocks directory. */
export async function readSample(dir: string, atMs: number): Promise<Sample> {
  const v = {} as Sample['v'];
  const h = {} as Sample['h'];
  await Promise.all([
    ...SCALARS.map(async (f) => (v[f] = Number((await readSmallFile(join(dir, f))).trim()))),
    ...HISTOS.map(
      async (f) => (h[f] = parseHisto(await readSmallFile(join(dir, f)), join(dir, f))),
    ),
  ]);
  return { atMs, v, h };
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
