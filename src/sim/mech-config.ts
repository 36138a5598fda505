/**
 * Parameters of the three mechanisms of the 2010 host that the fitted model leaves out, each
 * switched by one flag and off by default (docs/mechanisms.md gives every value's source and range):
 *
 * - shadow paging (Xeon 5160: no EPT, no VPID): shadow page faults serialize on the VM-wide
 *   `kvm->mmu_lock`, PTE writes under a page-table lock fault too, and a newly shadowed page table
 *   forces every other running vCPU of the VM out of guest mode (`kvm_flush_remote_tlbs`);
 * - the 2.6.35 guest's global VFS locks (`dcache_lock`, `inode_lock`, `files_lock`,
 *   `vfsmount_lock`), taken by path walks beside the fitted lock population;
 * - IPIs sent while holding a lock, at 2010 KVM's cost: reschedule IPIs under a remote run-queue
 *   lock, and TLB shootdowns that spin under a page-table lock until every target acknowledged
 *   (a preempted target acknowledges when it runs again; one with interrupts off, when it
 *   re-enables them).
 */
export interface MechanismConfig {
  shadowPaging: boolean;
  /** Shadow page faults per second of a vCPU's running guest code. */
  mmuFaultRatePerSec: number;
  /** One fault's exit, handling and re-entry (TLB refill included: no VPID). */
  mmuFaultNs: number;
  /** The part of a fault spent holding the VM's `mmu_lock` (serialized over the VM's vCPUs). */
  mmuLockHoldNs: number;
  /** Mean PTE writes (each a fault) inside one hold of a vCPU's page-table lock (its local lock). */
  ptWritesPerLocalHold: number;
  /** Share of faults that shadow a new page table and flush every other vCPU's TLB. */
  remoteFlushShare: number;
  /** What a remote flush costs each running vCPU it forces out (exit, re-entry, TLB refill). */
  remoteFlushNs: number;

  vfsLocks: boolean;
  /** Share of the shared-population acquisitions that are path-walk VFS lock acquisitions instead. */
  vfsShare: number;
  /** Mean hold of a VFS lock (lognormal, the population's sigma). */
  vfsHoldNsMean: number;

  ipiUnderLock: boolean;
  /** One emulated xAPIC access (ICR read, ICR2 write, ICR write: three per IPI sent). */
  apicExitNs: number;
  /** What taking one IPI costs a running target: the kick's exit, the handler, the EOI exit. */
  ipiTakeNs: number;
  /** A halted target: the kick wakes its thread and it acknowledges after this long. */
  ipiHaltedAckNs: number;
  /** Share of shared-lock acquisitions (interrupts on) that flush other CPUs' TLBs while held. */
  shootdownShare: number;
  /** vCPUs a shootdown targets (the mm's other CPUs). */
  shootdownTargets: number;
}

/** The mechanisms' defaults: every mechanism off, its parameters at their sources' central values. */
export const MECHANISM_DEFAULTS: MechanismConfig = {
  shadowPaging: false,
  mmuFaultRatePerSec: 20_000,
  mmuFaultNs: 3_000,
  mmuLockHoldNs: 1_000,
  ptWritesPerLocalHold: 4,
  remoteFlushShare: 0.02,
  remoteFlushNs: 2_000,
  vfsLocks: false,
  vfsShare: 0.3,
  vfsHoldNsMean: 500,
  ipiUnderLock: false,
  apicExitNs: 2_000,
  ipiTakeNs: 5_000,
  ipiHaltedAckNs: 30_000,
  shootdownShare: 0.01,
  shootdownTargets: 2,
};

/** Whole-number mechanism parameters and their ranges (inclusive). */
export const MECHANISM_INT_RANGES: Readonly<
  Partial<Record<keyof MechanismConfig, readonly [number, number]>>
> = {
  mmuFaultNs: [0, 1e8],
  mmuLockHoldNs: [0, 1e8],
  remoteFlushNs: [0, 1e8],
  vfsHoldNsMean: [1, 1e9],
  apicExitNs: [0, 1e8],
  ipiTakeNs: [0, 1e8],
  ipiHaltedAckNs: [0, 1e9],
  shootdownTargets: [1, 255],
};

/** Real-valued mechanism parameters and their ranges (inclusive). */
export const MECHANISM_REAL_RANGES: Readonly<
  Partial<Record<keyof MechanismConfig, readonly [number, number]>>
> = {
  mmuFaultRatePerSec: [0, 1e7],
  ptWritesPerLocalHold: [0, 1000],
  remoteFlushShare: [0, 1],
  vfsShare: [0, 1],
  shootdownShare: [0, 1],
};
