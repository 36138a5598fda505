import { PvQspinLock } from './locks-qspin';
import { Act, GuestLock, Vcpu } from './vcpu';
import { xchgLatencyNs } from './handoff';

/**
 * The hybrid pv queued/unfair lock of Linux 4.15+ (`pv_hybrid_queued_unfair_trylock`,
 * kernel/locking/qspinlock_paravirt.h): a waiter entering the slow path keeps trying to steal the
 * lock — taking it whenever it is free — for as long as a queue exists and its head has not set
 * the pending bit (the head is not yet spinning for the lock, typically because it is preempted or
 * halted); once there is no queue, or the head spins with pending set, it joins the MCS queue. So
 * under overcommit, where heads are often not running, it behaves as an unfair lock, and without
 * overcommit as the queued lock. Everything else — the queue, halting, hashing, kicks and the
 * qlockstat counters (`pv_lock_stealing` counts the steals) — is `PvQspinLock`'s.
 */
export class PvHybridLock extends PvQspinLock {
  /** Steal, keep spinning on the lock word, or queue up. */
  protected override trylock(v: Vcpu, lock: GuestLock): void {
    if (lock.holder < 0 && this.st.pending[lock.index] < 0) {
      this.steal(v, lock, xchgLatencyNs(this.g, v));
      return;
    }
    if (lock.queue.length === 0 || this.st.pending[lock.index] >= 0) {
      this.enqueue(v, lock);
      return;
    }
    this.g.setAct(v, Act.QSteal);
  }
}
