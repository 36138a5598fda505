/**
 * The simulation's parameters with their defaults. Every default is explained in
 * docs/model.md; ranges are checked by `validateConfig` so a bad value is an operating error, not
 * a crash deep inside the engine.
 */

import { MECHANISM_DEFAULTS } from './mech-config';
import type { MechanismConfig } from './mech-config';

/** Lock algorithms the guest can run (each declared once in `lock-registry.ts`). */
export const LOCKS = [
  'ticket',
  'pv-yield',
  'pv-ticket',
  'directed-yield',
  'xen-block',
  'pv-qspinlock',
  'tas',
  'pv-hybrid',
] as const;
/** A lock algorithm name. */
export type LockAlgorithm = (typeof LOCKS)[number];
/**
 * The debugfs layouts a guest kernel keeps: the RFC's `kvm/spinlocks/`, Xen 2.6.35's
 * `xen/spinlocks/`, the 3.12–4.8 pv ticketlock's `kvm-guest/spinlocks/`, the 4.5+ `qlockstat/`.
 * Names only: the files are the layout module's.
 */
export const LAYOUT_NAMES = ['kvm-2010', 'xen-2.6.35', 'kvm-guest-3.12', 'qlockstat'] as const;
/** A layout name. */
export type LayoutName = (typeof LAYOUT_NAMES)[number];
/** Pause-loop exiting on the host: off (the Xeon 5160 has none), 2.6.35's 100 µs sleep, 2.6.39's yield_to. */
export const PLES = ['off', 'sleep', 'yield-to'] as const;
/** A PLE mode. */
export type PleMode = (typeof PLES)[number];
/** The pv locks with a slow path that run-state sharing (solution (c)) can send a spinner to. */
export const RUN_STATE_LOCKS: readonly LockAlgorithm[] = [
  'pv-yield',
  'directed-yield',
  'xen-block',
  'pv-ticket',
];
/** Pinning scenarios of the RFC. */
export const PINNINGS = ['A', 'B', 'C'] as const;
/** A pinning scenario. */
export type Pinning = (typeof PINNINGS)[number];

/** All parameters of one simulated guest and host. Times are whole nanoseconds. */
export interface SimConfig extends MechanismConfig {
  seed: number;
  vcpus: number;
  pcpus: number;
  coresPerPackage: number;
  hogs: number;
  pinning: Pinning;
  /** Scenario C: fraction of the hogs pinned to the vCPUs' package (the rest are unpinned). */
  cHogShare: number;
  lock: LockAlgorithm;
  timeout: number;
  /** Pause-loop exiting for ticket-lock spinners. */
  ple: PleMode;
  /** PLE window: spinning time before the exit (4096 cycles ≈ 1.4 µs at 3 GHz). */
  pleWindowNs: number;
  /** 2.6.35's `kvm_vcpu_on_spin` sleep. */
  pleSleepNs: number;
  /** pv-ticket (3.12) and pv-qspinlock (4.2+): spin iterations before halting (SPIN_THRESHOLD = 2^15). */
  spinThreshold: number;
  /** Xen 2.6.35: share of acquisitions made by `spin_lock_irqsave` with interrupts on (they re-enable them while blocked). */
  irqsaveShare: number;
  /** pv-qspinlock: a queued waiter checks its predecessor every this many spin iterations (PV_PREV_CHECK_MASK + 1). */
  prevCheckIterations: number;
  /** pv-qspinlock: entries of the lock → queue-head hash table (at least one page: 256 on 64-bit). */
  pvHashEntries: number;
  // Host scheduler (2.6.35 CFS, tunables scaled ×3 for 4 CPUs).
  latencyNs: number;
  minGranularityNs: number;
  wakeupGranularityNs: number;
  tickNs: number;
  compatYield: boolean;
  /**
   * Srivatsa Vaddagiri's proposal in the thread: a task that yields keeps the rest of its slice
   * as a bonus (virtual-time credit) taken when it next runs.
   */
  yieldReclaim: boolean;
  balanceTicks: number;
  migrationCostNs: number;
  loadBalance: boolean;
  // Costs.
  ctxSwitchNs: number;
  hypercallNs: number;
  spinIterationNs: number;
  xchgNs: number;
  samePackageTransferNs: number;
  crossPackageTransferNs: number;
  /**
   * Contended hand-off (the 2012 collapse model's c): how long the home of a cache line takes to
   * answer one request for it. A release re-read by k running spinners hands over only after the
   * requests served ahead of the new owner: (k − 1)/2 of them for a ticket or read-spinning byte
   * lock, k − 1 for a test-and-set lock retrying its exchange, none for a queued lock (the lock
   * registry's `handoff`). 0 switches it off.
   */
  lineRequestNs: number;
  // Host background work (qemu's I/O thread and the like), one pinned task per pCPU.
  hostNoise: boolean;
  noiseShare: number;
  noiseBurstMinNs: number;
  noiseBurstMaxNs: number;
  // Guest workload (a synthetic make -j20).
  userNsMean: number;
  /** User stretches of exactly the mean (a benchmark's fixed loop) instead of exponential ones. */
  fixedUser: boolean;
  bursty: boolean;
  burstAcquisitionsMean: number;
  gapNsMean: number;
  holdNsMean: number;
  holdSigma: number;
  locks: number;
  lockZipf: number;
  /**
   * Share of the shared population's acquisitions that take its first lock instead: one global
   * lock every vCPU hits (a 4.x kernel build's hot directory dentry, `long2015`); 0: none.
   */
  hotLockShare: number;
  /**
   * Share of acquisitions that take the vCPU's own *local* lock: a lock mostly used by one vCPU
   * (its runqueue lock, held across a guest context switch; the page-table locks of the processes
   * it runs, held across PTE updates) whose critical sections are long because, without EPT, the
   * CR3 write and every PTE write inside them exit to the host (shadow paging).
   */
  localLockShare: number;
  /** Mean hold of a vCPU's own local lock. */
  localHoldNsMean: number;
  /** Share of acquisitions that take another vCPU's local lock (a remote wakeup, an rmap walk); ordinary hold. */
  remoteLocalShare: number;
  idleProbability: number;
  idleNsMean: number;
  stalls: boolean;
  stallRatePerSec: number;
  stallNs: number;
  /** Several guests: this guest's `cpu.shares` (its group's weight on the host; 1024 = nice 0). */
  shares: number;
  // The RFC's solutions (b) and (c), host and guest options.
  /**
   * Solution (b): while a vCPU holds a spinlock the guest sets a flag the host reads; the host
   * defers a tick or wakeup preemption of a flagged vCPU by at most `hintMaxDeferNs`, then
   * preempts anyway; a vCPU granted a deferral yields when it releases the lock.
   */
  preemptHints: boolean;
  hintMaxDeferNs: number;
  /**
   * Solution (c): the host publishes each vCPU's preempted state (steal time's `preempted`); a pv
   * spinner whose lock holder (ticket locks: or the next in line) is preempted stops spinning and
   * takes its slow path at once.
   */
  runState: boolean;
  // Ablations and instruments.
  grantOnlyToRunning: boolean;
  convoyMinWaiters: number;
  /** Guest work per job (running ns of compute and critical sections, summed over vCPUs). */
  jobWorkNs: number;
  /** Live mounts loop the job forever; experiments run one job and stop. */
  loopJobs: boolean;
}

/** The documented default seed. */
export const DEFAULT_SEED = 20100726;

/** Default configuration: the RFC's host (4 pCPUs in 2 packages), 4 vCPUs, 2x, pinning B, pv-yield. */
export function defaultConfig(): SimConfig {
  return {
    seed: DEFAULT_SEED,
    vcpus: 4,
    pcpus: 4,
    coresPerPackage: 2,
    hogs: 4,
    pinning: 'B',
    cHogShare: 0.4,
    lock: 'pv-yield',
    timeout: 1024,
    ple: 'off',
    pleWindowNs: 1_400,
    pleSleepNs: 100_000,
    spinThreshold: 32768,
    irqsaveShare: 0.25,
    prevCheckIterations: 256,
    pvHashEntries: 256,
    latencyNs: 18_000_000,
    minGranularityNs: 6_000_000,
    wakeupGranularityNs: 3_000_000,
    tickNs: 1_000_000,
    compatYield: false,
    yieldReclaim: false,
    balanceTicks: 8,
    migrationCostNs: 500_000,
    loadBalance: true,
    ctxSwitchNs: 5_000,
    hypercallNs: 2_000,
    spinIterationNs: 5,
    xchgNs: 20,
    samePackageTransferNs: 25,
    crossPackageTransferNs: 120,
    lineRequestNs: 120,
    hostNoise: true,
    noiseShare: 0.02,
    noiseBurstMinNs: 50_000,
    noiseBurstMaxNs: 500_000,
    userNsMean: 330_000,
    fixedUser: false,
    bursty: true,
    burstAcquisitionsMean: 6,
    gapNsMean: 3_000,
    holdNsMean: 1_500,
    holdSigma: 1.18,
    locks: 1000,
    lockZipf: 0.5,
    hotLockShare: 0,
    localLockShare: 0.34,
    localHoldNsMean: 130_000,
    remoteLocalShare: 0.014,
    idleProbability: 0.14,
    idleNsMean: 800_000,
    stalls: true,
    stallRatePerSec: 10_000,
    stallNs: 3_000,
    shares: 1024,
    preemptHints: false,
    hintMaxDeferNs: 50_000,
    runState: false,
    grantOnlyToRunning: false,
    convoyMinWaiters: 2,
    jobWorkNs: 4_000_000_000,
    loopJobs: true,
    ...MECHANISM_DEFAULTS,
  };
}

/** Hogs for an overcommit factor: (hogs + vCPUs) / pCPUs = k, never negative. */
export function hogsForOvercommit(k: number, vcpus: number, pcpus: number): number {
  return Math.max(0, Math.round(k * pcpus) - vcpus);
}

/** The most CPU hogs a host may have (the `--hogs` option, `pvlockfs/hogs`, the experiment's cells). */
export const MAX_HOGS = 1024;
