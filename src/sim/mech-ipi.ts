import { doubleFields } from './doubles';
import type { Guest } from './guest';
import type { MechanismSpec } from './mechanisms';
import { TaskState } from './task';
import type { Vcpu } from './vcpu';
import { Mark } from './trace';

/** xAPIC accesses to send one IPI (ICR read to wait for idle, ICR2 write, ICR write). */
const APIC_ACCESSES_PER_IPI = 3;
/** Spreads lock indices over [0, 1) to decide which shared locks are taken with interrupts off. */
const GOLDEN = 0.6180339887498949;

/**
 * IPIs sent while holding a spinlock, at 2010 KVM's cost (2.6.35): each IPI is three emulated
 * xAPIC accesses; a running target is kicked out of guest mode, takes the interrupt and exits
 * again for the EOI; a target with interrupts off takes it only when it re-enables them — as a
 * 2.6.35 ticket spinner on an irq-safe lock does, spinning with interrupts off — and a preempted
 * target only when it runs again.
 *
 * - A remote wakeup (another vCPU's local lock: its run-queue lock) sends a reschedule IPI
 *   while holding that lock (`resched_task`), without waiting.
 * - A TLB shootdown (`flush_tlb_others`) is sent under a page-table lock (a shared lock taken
 *   with interrupts on) and spins until every target acknowledged, so a preempted or
 *   interrupts-off target stretches the hold.
 */
export class IpisUnderLock {
  /** Per lock: taken with interrupts off (run-queue locks, `irqsaveShare` of the shared ones). */
  private readonly irqSafe: Uint8Array;
  /** Per vCPU: the senders waiting for its acknowledgement. */
  private readonly waiting: number[][];
  /** Per sender: acknowledgements still missing, when the IPI went out, what follows the acks. */
  private readonly missing: Int32Array;
  private readonly sentAtNs: Float64Array;
  private readonly preNs: Float64Array;
  private readonly restNs: Float64Array;
  /** Reschedule IPIs and TLB shootdowns sent under a lock, acknowledgements that had to wait, and the holders' wait for them. */
  reschedIpis = 0;
  shootdowns = 0;
  deferredAcks = 0;
  shootdownWaitNs = 0;

  constructor(private readonly g: Guest) {
    doubleFields(this, ['shootdownWaitNs']);
    const cfg = g.cfg;
    this.irqSafe = new Uint8Array(g.locks.length);
    for (let i = 0; i < g.locks.length; i++) {
      const shared = g.space.isShared(i);
      const vfs = g.space.isVfs(i);
      this.irqSafe[i] = vfs ? 0 : shared ? ((i * GOLDEN) % 1 < cfg.irqsaveShare ? 1 : 0) : 1;
    }
    this.waiting = Array.from({ length: cfg.vcpus }, () => []);
    this.missing = new Int32Array(cfg.vcpus);
    this.sentAtNs = new Float64Array(cfg.vcpus);
    this.preNs = new Float64Array(cfg.vcpus);
    this.restNs = new Float64Array(cfg.vcpus);
  }

  /** Whether `v` runs with interrupts on (not inside or spinning on an irq-safe lock). */
  interruptsOn(v: Vcpu): boolean {
    return v.lock < 0 || this.irqSafe[v.lock] === 0;
  }

  /**
   * `v` just acquired its lock and will run `preNs` (its exchange) then `holdNs` (the critical
   * section). Returns the running time to arm now, or -1 when it waits for an acknowledgement
   * that only a later event brings (the last one arms its timer).
   */
  acquired(v: Vcpu, preNs: number, holdNs: number): number {
    const cfg = this.g.cfg;
    const send = APIC_ACCESSES_PER_IPI * cfg.apicExitNs;
    const space = this.g.space;
    const local = space.localOwner(v.lock);
    if (local >= 0) {
      if (local === v.index) return preNs + holdNs;
      // A remote wakeup: the reschedule IPI goes out under the target's run-queue lock.
      this.reschedIpis += 1;
      this.take(this.g.vcpus[local]);
      return preNs + send + holdNs;
    }
    if (!space.isShared(v.lock) || this.irqSafe[v.lock] === 1) return preNs + holdNs;
    if (v.rng.uniform() >= cfg.shootdownShare) return preNs + holdNs;
    return this.shootdown(v, preNs + send, holdNs);
  }

  /** `v` re-enabled interrupts or runs again: it takes the IPIs that waited for it. */
  deliver(v: Vcpu): void {
    const senders = this.waiting[v.index];
    if (senders.length === 0 || !this.interruptsOn(v) || v.task.state !== TaskState.Running) return;
    this.waiting[v.index] = [];
    for (const s of senders) {
      this.take(v);
      this.deferredAcks += 1;
      this.missing[s] -= 1;
      if (this.missing[s] === 0) this.resume(this.g.vcpus[s]);
    }
  }

  private shootdown(v: Vcpu, preNs: number, holdNs: number): number {
    const g = this.g;
    const cfg = g.cfg;
    this.shootdowns += 1;
    g.note(Mark.Shootdown, v.index);
    const others = cfg.vcpus - 1;
    let ackNs = 0;
    let missing = 0;
    // The targets: consecutive other vCPUs from a drawn one (the sender's own stream).
    const first = v.rng.int(0, others - 1);
    for (let k = 0, n = Math.min(cfg.shootdownTargets, others); k < n; k++) {
      const pick = (first + k) % others;
      const w = g.vcpus[pick >= v.index ? pick + 1 : pick];
      const state = w.task.state;
      if (state === TaskState.Running && this.interruptsOn(w)) {
        this.take(w);
        ackNs = Math.max(ackNs, cfg.ipiTakeNs);
      } else if (state === TaskState.Sleeping && this.interruptsOn(w)) {
        // Halted with interrupts on: the kick wakes it, it acknowledges and halts again.
        ackNs = Math.max(ackNs, cfg.ipiHaltedAckNs);
      } else {
        this.waiting[w.index].push(v.index);
        missing += 1;
      }
    }
    if (missing === 0) return preNs + ackNs + holdNs;
    this.missing[v.index] = missing;
    this.sentAtNs[v.index] = g.now;
    this.preNs[v.index] = preNs;
    this.restNs[v.index] = holdNs;
    // Whatever timer the vCPU had as a waiter is void: the acknowledgements arm the next one.
    g.host.cancelTimer(v.task);
    return -1;
  }

  /** The last acknowledgement reached sender `s`: the rest of its hold runs. */
  private resume(s: Vcpu): void {
    const g = this.g;
    const waited = g.now - this.sentAtNs[s.index];
    this.shootdownWaitNs += waited;
    const pre = Math.max(0, this.preNs[s.index] - waited);
    g.host.armTimer(s.task, pre + g.cfg.ipiTakeNs + this.restNs[s.index]);
  }

  /** A running target with interrupts on takes an IPI: kicked out, the handler, the EOI exit. */
  private take(w: Vcpu): void {
    if (w.task.state === TaskState.Running && this.interruptsOn(w))
      this.g.kvm.forceExit(w, this.g.cfg.ipiTakeNs);
  }
}

/** IPIs under a lock as a switchable mechanism (see `MECHANISMS`). */
export const IPIS_UNDER_LOCK: MechanismSpec = {
  name: 'ipi-under-lock',
  help: 'IPIs sent while holding a lock at 2010 KVM cost: reschedule IPIs under run-queue locks, TLB shootdowns that wait for every target',
  params: ['apicExitNs', 'ipiTakeNs', 'ipiHaltedAckNs', 'shootdownShare', 'shootdownTargets'],
  counters: (g) => {
    const i = g.ipis as IpisUnderLock;
    return {
      resched_ipis_under_lock: i.reschedIpis,
      tlb_shootdowns_under_lock: i.shootdowns,
      ipi_acks_deferred: i.deferredAcks,
      shootdown_wait_ns: i.shootdownWaitNs,
    };
  },
  sourceRanges: {
    apicExitNs: [1_000, 5_000, 'int'],
    ipiTakeNs: [3_000, 10_000, 'int'],
    ipiHaltedAckNs: [10_000, 60_000, 'int'],
    shootdownShare: [0.001, 0.05, 'real'],
    shootdownTargets: [1, 3, 'int'],
  },
};
