import { doubleFields } from './doubles';
import type { Guest } from './guest';
import type { MechanismSpec } from './mechanisms';
import { TaskState } from './task';
import type { Vcpu } from './vcpu';
import { Mark } from './trace';

/**
 * Shadow paging on a host without EPT or VPID (2.6.35 `arch/x86/kvm/mmu.c`): a guest page fault
 * or a write to a write-protected guest page table exits to the host, which fixes the shadow
 * entry under the VM-wide `kvm->mmu_lock`, so the faults of all the VM's vCPUs serialize there.
 * When a fault shadows a new page table, `kvm_mmu_get_page()` write-protects it and calls
 * `kvm_flush_remote_tlbs()`: every other vCPU in guest mode is forced out (and refills its TLB:
 * no VPID), and the faulting vCPU waits for them.
 *
 * The faults of one stretch of guest code (a user stretch, a gap, a hold) are drawn when the
 * stretch starts and queue on the lock from there; PTE writes under a page-table lock (the
 * vCPU's local lock) add their own faults to that hold.
 */
export class ShadowPaging {
  /** When the VM's mmu_lock is next free (the host's spinlock: its holder is never preempted). */
  private mmuFreeAtNs = 0;
  /** Faults, time spent waiting for the VM's mmu_lock, remote TLB flushes. */
  faults = 0;
  lockWaitNs = 0;
  remoteFlushes = 0;

  constructor(private readonly g: Guest) {
    doubleFields(this, ['lockWaitNs']);
  }

  /** Extra running time of `v`'s next `ns` of guest code (`ptLockHold`: a page-table lock's hold). */
  faultsIn(v: Vcpu, ns: number, ptLockHold: boolean): number {
    const cfg = this.g.cfg;
    let n = v.rng.poissonIn(cfg.mmuFaultRatePerSec, ns);
    if (ptLockHold) n += v.rng.poisson(cfg.ptWritesPerLocalHold);
    if (n === 0) return 0;
    const now = this.g.now;
    let extra = 0;
    for (let i = 0; i < n; i++) {
      const at = now + extra;
      const start = Math.max(at, this.mmuFreeAtNs);
      this.mmuFreeAtNs = start + cfg.mmuLockHoldNs;
      const wait = start - at;
      extra += wait + cfg.mmuFaultNs;
      this.lockWaitNs += wait;
      if (v.rng.uniform() < cfg.remoteFlushShare) extra += this.flushRemote(v);
    }
    this.faults += n;
    v.overheadNs += extra;
    return extra;
  }

  /** `kvm_flush_remote_tlbs()` from `v`: the others in guest mode exit; `v` waits for them. */
  private flushRemote(v: Vcpu): number {
    const cost = this.g.cfg.remoteFlushNs;
    this.remoteFlushes += 1;
    this.g.note(Mark.RemoteFlush, v.index);
    let forced = 0;
    for (const w of this.g.vcpus) {
      if (w === v || w.task.state !== TaskState.Running) continue;
      this.g.kvm.forceExit(w, cost);
      forced += 1;
    }
    return forced > 0 ? cost : 0;
  }
}

/** Shadow paging as a switchable mechanism (see `MECHANISMS`). */
export const SHADOW_PAGING: MechanismSpec = {
  name: 'shadow-paging',
  help: "shadow paging without EPT/VPID: faults serialize on the VM's mmu_lock, PTE writes under page-table locks fault, remote TLB flushes force the other vCPUs out",
  params: [
    'mmuFaultRatePerSec',
    'mmuFaultNs',
    'mmuLockHoldNs',
    'ptWritesPerLocalHold',
    'remoteFlushShare',
    'remoteFlushNs',
  ],
  counters: (g) => {
    const s = g.shadow as ShadowPaging;
    return {
      mmu_faults: s.faults,
      mmu_lock_wait_ns: s.lockWaitNs,
      remote_tlb_flushes: s.remoteFlushes,
    };
  },
  sourceRanges: {
    mmuFaultRatePerSec: [5_000, 100_000, 'int'],
    mmuFaultNs: [2_000, 10_000, 'int'],
    mmuLockHoldNs: [500, 3_000, 'int'],
    ptWritesPerLocalHold: [0, 16, 'real'],
    remoteFlushShare: [0.005, 0.1, 'real'],
    remoteFlushNs: [1_000, 5_000, 'int'],
  },
};
