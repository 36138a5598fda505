import type { SimConfig } from './config';
import { Cat } from './instruments';
import { TaskState } from './task';
import { Act, isSpinning, Vcpu } from './vcpu';

/*
 * The guest's workload choices and the time categories of its vCPUs, as pure functions over the
 * vCPU and its own random stream (every lock algorithm then sees the same job).
 */

/**
 * The lock of the next acquisition: the vCPU's own local lock (long hold), another vCPU's local
 * lock (ordinary hold), or one of the shared locks by Zipf popularity (`lockCdf`).
 */
export function pickLock(cfg: SimConfig, lockCdf: Float64Array, v: Vcpu): number {
  if (cfg.localLockShare > 0 || cfg.remoteLocalShare > 0) {
    const r = v.rng.uniform();
    if (r < cfg.localLockShare) return cfg.locks + v.index;
    if (r < cfg.localLockShare + cfg.remoteLocalShare && cfg.vcpus > 1) {
      const other = v.rng.int(0, cfg.vcpus - 2);
      return cfg.locks + (other >= v.index ? other + 1 : other);
    }
  }
  const u = v.rng.uniform();
  let lo = 0;
  let hi = lockCdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lockCdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
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

/** Cumulative Zipf(s) popularity over n locks. */
export function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += 1 / (i + 1) ** s;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += 1 / (i + 1) ** s / sum;
    cdf[i] = acc;
  }
  cdf[n - 1] = 1;
  return cdf;
}
