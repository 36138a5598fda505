import type { SimConfig } from './config';
import { VFS_LOCKS } from './mech-vfs';

/**
 * A guest's locks in one numbering, and the one place that knows it: the shared population
 * first (`[0, shared)`), then one local lock per vCPU (its run-queue or page-table lock, vCPU
 * i's at `shared + i`), then the global VFS locks when that mechanism is on.
 */
export class LockSpace {
  /** Locks of the shared (Zipf) population. */
  readonly shared: number;
  /** Index of the first VFS lock (past every lock when that mechanism is off). */
  readonly firstVfs: number;
  /** How many locks the guest keeps. */
  readonly count: number;

  constructor(cfg: SimConfig) {
    this.shared = cfg.locks;
    const vfsAt = cfg.locks + cfg.vcpus;
    this.count = vfsAt + (cfg.vfsLocks ? VFS_LOCKS.length : 0);
    this.firstVfs = cfg.vfsLocks ? vfsAt : Infinity;
  }

  /** vCPU `vcpu`'s local lock. */
  local(vcpu: number): number {
    return this.shared + vcpu;
  }

  /** Whether lock `i` is one of the shared population. */
  isShared(i: number): boolean {
    return i < this.shared;
  }

  /** Whether lock `i` is one of the global VFS locks. */
  isVfs(i: number): boolean {
    return i >= this.firstVfs;
  }

  /** The vCPU whose local lock `i` is, or −1 (a shared or VFS lock). */
  localOwner(i: number): number {
    return i >= this.shared && i < this.firstVfs && i < this.count ? i - this.shared : -1;
  }
}
