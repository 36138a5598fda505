import type { Pinning, SimConfig } from './config';

/** Where a task may run (a mask over the pCPUs) and where it starts. */
export interface Placement {
  allowed: Uint8Array;
  cpu: number;
}

/** Scenario C's package: the last `coresPerPackage` pCPUs (pCPUs 2 and 3 on the RFC's host). */
export function vcpuPackage(cfg: SimConfig): number[] {
  const n = Math.min(cfg.coresPerPackage, cfg.pcpus);
  return Array.from({ length: n }, (_, k) => cfg.pcpus - n + k);
}

/**
 * vCPU `i` of a guest pinned as `pinning` on `cfg`'s host: A pins vCPU i to pCPU i, C lets
 * every vCPU run on the package of `vcpuPackage`, B (none) lets it run anywhere.
 */
export function vcpuPlacement(cfg: SimConfig, pinning: Pinning, i: number): Placement {
  const { pcpus } = cfg;
  const allowed = new Uint8Array(pcpus);
  if (pinning === 'A') {
    allowed[i % pcpus] = 1;
    return { allowed, cpu: i % pcpus };
  }
  if (pinning === 'C') {
    const pkg = vcpuPackage(cfg);
    for (const c of pkg) allowed[c] = 1;
    return { allowed, cpu: pkg[i % pkg.length] };
  }
  allowed.fill(1);
  return { allowed, cpu: i % pcpus };
}

/**
 * Hog `j` on a host of `vcpus` vCPUs: in scenario C the first `cHogShare` of the hogs are pinned
 * to the vCPUs' package (placed alternately on its pCPUs), every other hog may run anywhere.
 */
export function hogPlacement(cfg: SimConfig, vcpus: number, j: number): Placement {
  const { pcpus, pinning, cHogShare } = cfg;
  const allowed = new Uint8Array(pcpus);
  if (pinning === 'C' && j < Math.round(cHogShare * cfg.hogs)) {
    const pkg = vcpuPackage(cfg);
    for (const c of pkg) allowed[c] = 1;
    return { allowed, cpu: pkg[j % pkg.length] };
  }
  allowed.fill(1);
  return { allowed, cpu: (vcpus + j) % pcpus };
}
