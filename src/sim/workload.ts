import type { SimConfig } from './config';
import { Cat } from './instruments';
import type { LockSpace } from './lock-space';
import { pickVfsLock, VfsLocks } from './mech-vfs';
import { Lognormal } from './rng';
import { TaskState } from './task';
import { Act, Vcpu } from './vcpu';
import { isSpinning } from './acts';

/*
 * The guest's workload choices and the time categories of its vCPUs, as pure functions over the
 * vCPU and its own random stream (every lock algorithm then sees the same job).
 */

/**
 * The lock of the next acquisition: the vCPU's own local lock (long hold), another vCPU's local
 * lock (ordinary hold), with `vfsLocks` one of the global VFS locks, or one of the shared locks
 * by Zipf popularity (`lockCdf`).
 */
export function pickLock(cfg: SimConfig, space: LockSpace, lockCdf: ZipfTable, v: Vcpu): number {
  if (cfg.localLockShare > 0 || cfg.remoteLocalShare > 0) {
    const r = v.rng.uniform();
    if (r < cfg.localLockShare) return space.local(v.index);
    if (r < cfg.localLockShare + cfg.remoteLocalShare && cfg.vcpus > 1) {
      const other = v.rng.int(0, cfg.vcpus - 2);
      return space.local(other >= v.index ? other + 1 : other);
    }
  }
  if (cfg.vfsLocks) {
    // A path walk's acquisition goes to one of the global VFS locks instead (one draw picks both).
    const r = v.rng.uniform();
    if (r < cfg.vfsShare) return pickVfsLock(space, r / cfg.vfsShare);
  }
  // The global hot lock (the population's first), when there is one.
  if (cfg.hotLockShare > 0 && v.rng.uniform() < cfg.hotLockShare) return 0;
  return lockCdf.pick(v.rng.uniform());
}

/**
 * What a guest's vCPUs do, drawn from each vCPU's own stream: user stretches, bursts of kernel
 * acquisitions, which lock each takes and how long it is held. Without bursts the same
 * acquisitions are spread evenly: one per user stretch, the stretch shortened so that the
 * acquisition rate and the work per acquisition stay the same.
 */
export class Workload {
  private readonly lockCdf: ZipfTable;
  private readonly userMeanNs: number;
  private readonly burstMean: number;
  /** The hold-time distributions (shared and others' locks, the vCPU's own lock). */
  private readonly hold: Lognormal;
  private readonly localHold: Lognormal;

  constructor(
    private readonly cfg: SimConfig,
    private readonly space: LockSpace,
    private readonly vfs: VfsLocks | null,
  ) {
    this.lockCdf = zipfTable(cfg.locks, cfg.lockZipf);
    this.hold = new Lognormal(cfg.holdNsMean, cfg.holdSigma);
    this.localHold = new Lognormal(cfg.localHoldNsMean, cfg.holdSigma);
    this.burstMean = cfg.bursty ? cfg.burstAcquisitionsMean : 1;
    this.userMeanNs = cfg.bursty
      ? cfg.userNsMean
      : Math.max(
          1,
          Math.round(
            (cfg.userNsMean + (cfg.burstAcquisitionsMean - 1) * cfg.gapNsMean) /
              cfg.burstAcquisitionsMean,
          ),
        );
  }

  /** The lock of `v`'s next acquisition (see `pickLock`). */
  pickLock(v: Vcpu): number {
    return pickLock(this.cfg, this.space, this.lockCdf, v);
  }

  /** How long `v` holds the lock it just took (`ownLock`: its own local lock). */
  holdNs(v: Vcpu, ownLock: boolean): number {
    const vfs = this.vfs;
    const dist = ownLock
      ? this.localHold
      : vfs !== null && this.space.isVfs(v.lock)
        ? vfs.hold
        : this.hold;
    return dist.draw(v.rng);
  }

  /** A user stretch's length (exponential, or exactly the mean with `fixedUser`). */
  userNs(v: Vcpu): number {
    return this.cfg.fixedUser ? this.userMeanNs : v.rng.expNs(this.userMeanNs);
  }

  /** How many acquisitions the next burst makes. */
  burst(v: Vcpu): number {
    return v.rng.geometric(this.burstMean);
  }
}

/** The time category a vCPU is in now (what its time counts as). */
export function category(v: Vcpu): Cat {
  const s = v.task.state;
  if (s === TaskState.Sleeping || s === TaskState.Dead) return Cat.Halt;
  const yielding = v.act === Act.Hypercall || v.act === Act.Yielded;
  if (s === TaskState.Runnable) return yielding ? Cat.Yield : Cat.Wait;
  if (yielding) return Cat.Yield;
  return isSpinning(v.act) ? Cat.Spin : Cat.Run;
}

/**
 * The Zipf table for `n` locks with exponent `s`, one per distinct pair and shared by every guest
 * that asks for it (it is read-only; guests of one host usually share their workload, and one
 * table in the cache serves them all).
 */
export function zipfTable(n: number, s: number): ZipfTable {
  const key = `${n}:${s}`;
  let t = zipfTables.get(key);
  if (t === undefined) {
    t = new ZipfTable(n, s);
    // A process that builds machines of many different workloads (a refit) keeps only the last.
    if (zipfTables.size >= 64) zipfTables.clear();
    zipfTables.set(key, t);
  }
  return t;
}

const zipfTables = new Map<string, ZipfTable>();

/**
 * Zipf(s) popularity over n locks as a cumulative table, with a guide table (one entry per
 * 1/n of [0, 1): the first lock whose cumulative share exceeds it) so that a pick starts next to
 * its answer instead of bisecting.
 */
export class ZipfTable {
  readonly cdf: Float64Array;
  private readonly guide: Int32Array;

  constructor(n: number, s: number) {
    const cdf = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += 1 / (i + 1) ** s;
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += 1 / (i + 1) ** s / sum;
      cdf[i] = acc;
    }
    cdf[n - 1] = 1;
    this.cdf = cdf;
    this.guide = new Int32Array(n);
    let i = 0;
    for (let j = 0; j < n; j++) {
      while (cdf[i] <= j / n) i += 1;
      this.guide[j] = i;
    }
  }

  /** The first lock whose cumulative share exceeds `u` (uniform in [0, 1)). */
  pick(u: number): number {
    const cdf = this.cdf;
    const n = cdf.length;
    // guide[j] is the first index with cdf > j/n; with j/n ≤ u the answer is at or after it
    // (one step back where rounding made u·n reach the next integer).
    let j = Math.floor(u * n);
    if (j / n > u) j -= 1;
    let i = this.guide[j];
    while (cdf[i] <= u) i += 1;
    return i;
  }
}
