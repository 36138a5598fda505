import type { SimConfig } from './config';
import { Lognormal } from './rng';
import type { LockSpace } from './lock-space';
import type { MechanismSpec } from './mechanisms';

/**
 * The 2.6.35 guest's global VFS spinlocks and their shares of path-walk acquisitions
 * (docs/mechanisms.md): `dput()` takes `dcache_lock` whenever a dentry's count drops to zero,
 * once per path component walked; `files_lock` is taken when a file is opened and closed;
 * `inode_lock` by `iput()` and when an inode is dirtied; `vfsmount_lock` when a walk crosses a
 * mount. The VFS scalability work of 2.6.36–2.6.39 took them off the hot path.
 */
export const VFS_LOCKS: readonly { name: string; share: number }[] = [
  { name: 'dcache_lock', share: 0.6 },
  { name: 'files_lock', share: 0.2 },
  { name: 'inode_lock', share: 0.15 },
  { name: 'vfsmount_lock', share: 0.05 },
];

/** The VFS lock a path-walk acquisition takes, from `u` uniform in [0, 1) (the mechanism is on). */
export function pickVfsLock(space: LockSpace, u: number): number {
  let acc = 0;
  for (let i = 0; i < VFS_LOCKS.length - 1; i++) {
    acc += VFS_LOCKS[i].share;
    if (u < acc) return space.firstVfs + i;
  }
  return space.firstVfs + VFS_LOCKS.length - 1;
}

/**
 * The global VFS locks of one guest, switched on: their hold distribution (the population's
 * sigma), and how often they were taken and found held (where they are: `LockSpace`).
 */
export class VfsLocks {
  readonly hold: Lognormal;
  acquisitions = 0;
  contended = 0;

  constructor(
    cfg: SimConfig,
    private readonly space: LockSpace,
  ) {
    this.hold = new Lognormal(cfg.vfsHoldNsMean, cfg.holdSigma);
  }

  /** Counts an acquisition of lock `i` if it is a VFS lock (`held`: another vCPU held it). */
  acquire(i: number, held: boolean): void {
    if (!this.space.isVfs(i)) return;
    this.acquisitions += 1;
    if (held) this.contended += 1;
  }
}

/** The global VFS locks as a switchable mechanism (see `MECHANISMS`). */
export const VFS_LOCKS_MECHANISM: MechanismSpec = {
  name: 'vfs-locks',
  help: "the 2.6.35 guest's global VFS locks (dcache_lock, files_lock, inode_lock, vfsmount_lock) taken by path walks",
  params: ['vfsShare', 'vfsHoldNsMean'],
  counters: (g) => {
    const v = g.vfs as VfsLocks;
    return { vfs_acquisitions: v.acquisitions, vfs_contended: v.contended };
  },
  sourceRanges: {
    vfsShare: [0.1, 0.6, 'real'],
    vfsHoldNsMean: [300, 1_300, 'int'],
  },
};
