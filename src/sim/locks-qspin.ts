import { fail } from './assert';
import { PvHashTable } from './pv-hash';
import { predecessor, QspinState } from './qspin-state';
import type { Guest } from './guest';
import { Mark } from './trace';
import { Q } from './qstats';
import { TaskState } from './task';
import { Act, GuestLock, LockAlgorithmImpl, LockCounts, QState, Vcpu } from './vcpu';
import { firstToExchange, xchgLatencyNs } from './handoff';

/**
 * The pv queued spinlock as Linux 4.2 queues (no lock stealing), with 4.5's adaptive node spinning
 * and qlockstat counters (kernel/locking/qspinlock.c and qspinlock_paravirt.h,
 * with KVM's `kvm_wait` / `kvm_kick_cpu`), at the level of the lock word and the MCS queue:
 *
 * - Fast path: the word is 0 (free, no pending bit, no queue) → take it.
 * - Otherwise join the MCS queue: 4.2–4.4 steal nothing (the trylock before queueing succeeds
 *   only on a word of 0, the fast path's test), so `pv_lock_stealing` stays 0. (4.5–4.14 tried one
 *   steal there; 4.15's hybrid unfair trylock, which keeps trying while the head is not spinning,
 *   is `PvHybridLock`, locks-hybrid.ts.)
 * - A queued node spins `spinThreshold` iterations on its `locked` flag, checking every
 *   `prevCheckIterations` whether its predecessor is halted or preempted (then it waits early);
 *   then it halts (`pv_wait_node`). A halted successor is not woken when it becomes head: the new
 *   owner marks it hashed and sets the locked byte to `_Q_SLOW_VAL` (`pv_kick_node`), so the
 *   owner's unlock kicks it.
 * - The head (`lock_slowpath`) sets pending (stopping steals), spins `spinThreshold` iterations
 *   for the lock, clears pending, hashes the lock once (`pv_hash_hops`) with `_Q_SLOW_VAL`, and
 *   halts (`pv_wait_head`, `pv_wait_again` on repeats). Once hashed it never hashes again, so a
 *   later round's `pv_wait` returns at once unless the byte is `_Q_SLOW_VAL` — as in the kernel.
 * - Unlock: `_Q_SLOW_VAL` → unhash and kick the hashed head (`pv_kick_unlock`; the hypercall's
 *   duration is `pv_latency_kick`, kick-to-wakeup `pv_latency_wake`).
 *
 * A preempted head still holds the pending bit, so a released lock waits for it: lock-waiter
 * preemption is reduced, not gone. With pv the kernel skips the pending-bit fast path, so
 * `lock_pending` stays 0. A predecessor check that finds the predecessor back on a CPU resumes
 * the spin with a fresh budget (the kernel keeps counting; the difference is at most one check).
 */
export class PvQspinLock implements LockAlgorithmImpl {
  /** A release may have a hashed node to unhash: always called. */
  readonly idleWhenUncontended = false;
  readonly counts = new LockCounts();
  /** Acquisitions by stealing (the unfair trylock), and halts in `pv_wait`. */
  steals = 0;
  halts = 0;

  /** Lock → hashed node table. */
  private readonly table: PvHashTable;
  /** The algorithm's own per-vCPU and per-lock state. */
  readonly st: QspinState;

  constructor(protected readonly g: Guest) {
    this.st = new QspinState(g.cfg.vcpus, g.locks.length);
    this.table = new PvHashTable(g.cfg.pvHashEntries);
  }

  begin(v: Vcpu): void {
    const lock = this.g.locks[v.lock];
    if (lock.holder < 0 && this.st.pending[lock.index] < 0 && lock.queue.length === 0) {
      this.g.acquired(v, lock, xchgLatencyNs(this.g, v));
      return;
    }
    this.trylock(v, lock);
  }

  dispatched(v: Vcpu): void {
    const g = this.g;
    const lock = g.locks[v.lock];
    switch (v.act) {
      case Act.QSteal:
        this.trylock(v, lock);
        return;
      case Act.QNode:
        if (lock.queue[0] === v.index) this.head(v, lock);
        else this.checkEarly(v, lock);
        return;
      case Act.QHead:
        if (lock.holder < 0) this.gotLock(v, lock, xchgLatencyNs(g, v));
        return;
      case Act.QHalted:
        this.woke(v, lock);
        return;
      default:
        fail(`pv-qspinlock: vCPU ${v.index} dispatched in activity ${v.act}`);
    }
  }

  timer(v: Vcpu): void {
    const g = this.g;
    const lock = g.locks[v.lock];
    if (v.act === Act.QNode) {
      if (this.st.qEarly[v.index] && !this.st.stalled(predecessor(this.g.vcpus, v, lock))) {
        this.nodeSpin(v, lock);
        return;
      }
      g.qstats.add(Q.WaitNode);
      if (this.st.qEarly[v.index]) g.qstats.add(Q.WaitEarly);
      this.st.qState[v.index] = QState.Halted;
      this.halt(v, lock);
      return;
    }
    if (v.act !== Act.QHead) fail(`pv-qspinlock: timer in activity ${v.act}`);
    if (lock.holder < 0) {
      this.gotLock(v, lock, xchgLatencyNs(g, v));
      return;
    }
    // The head's spin ran out: clear pending, hash once, wait for the unlocker's kick.
    this.st.pending[lock.index] = -1;
    if (!this.st.qHashed[v.index]) {
      this.st.qHashed[v.index] = true;
      this.hashInsert(lock, v.lock);
      this.st.slowVal[lock.index] = true;
    }
    this.st.qState[v.index] = QState.Hashed;
    g.qstats.add(Q.WaitHead);
    if (this.st.qWaits[v.index] > 0) g.qstats.add(Q.WaitAgain);
    this.st.qWaits[v.index] += 1;
    if (this.st.slowVal[lock.index]) this.halt(v, lock);
    else this.headSpin(v, lock);
  }

  released(lock: GuestLock): void {
    const g = this.g;
    let kick: Vcpu | null = null;
    if (this.st.slowVal[lock.index]) {
      this.st.slowVal[lock.index] = false;
      this.table.remove(this.st.hashSlot[lock.index]);
      this.st.hashSlot[lock.index] = -1;
      kick = g.vcpus[lock.queue[0]];
      if (this.st.qState[kick.index] !== QState.Hashed)
        fail(`pv-qspinlock: unlock finds vCPU ${kick.index} not hashed`);
      g.qstats.add(Q.KickUnlock);
      g.qstats.add(Q.LatencyKick, g.cfg.hypercallNs);
      this.counts.kicks += 1;
      g.note(Mark.Kick, kick.index);
      this.st.kickedAtNs[kick.index] = g.now;
    }
    if (this.st.pending[lock.index] >= 0) {
      const h = g.vcpus[this.st.pending[lock.index]];
      if (h.act === Act.QHead && h.task.state === TaskState.Running)
        this.gotLock(h, lock, xchgLatencyNs(g, h));
    } else {
      this.stealRace(lock);
    }
    if (kick !== null) g.kvm.kick(kick);
  }

  descheduled(v: Vcpu): void {
    const lock = this.g.locks[v.lock];
    this.notifySuccessor(v, lock);
  }

  /** The slow path's entry: 4.2's lock queues up (the hybrid lock overrides this with its steals). */
  protected trylock(v: Vcpu, lock: GuestLock): void {
    this.enqueue(v, lock);
  }

  protected steal(v: Vcpu, lock: GuestLock, latencyNs: number): void {
    this.g.qstats.add(Q.LockStealing);
    this.steals += 1;
    this.g.acquired(v, lock, latencyNs);
  }

  /** The released lock goes to the running stealer whose exchange lands first. */
  private stealRace(lock: GuestLock): void {
    const first = firstToExchange(this.g, lock, Act.QSteal, this.g.vcpuIndices);
    if (first !== null) this.steal(first.v, lock, first.latencyNs);
  }

  /** Running stealers re-read the lock word after it changed (pending set, queue emptied). */
  private poke(lock: GuestLock): void {
    for (const w of this.g.vcpus) {
      if (
        w.act === Act.QSteal &&
        w.task.state === TaskState.Running &&
        this.g.locks[w.lock] === lock
      )
        this.trylock(w, lock);
    }
  }

  /** Joins the MCS queue: as head if it was empty, else as a node behind the tail. */
  protected enqueue(v: Vcpu, lock: GuestLock): void {
    lock.queue.push(v.index);
    this.st.qState[v.index] = QState.Running;
    this.st.qHashed[v.index] = false;
    this.st.qWaits[v.index] = 0;
    if (lock.queue.length === 1) this.head(v, lock);
    else this.nodeSpin(v, lock);
  }

  /** A node spins on its `locked` flag (or only until the next predecessor check, if that one stalls). */
  private nodeSpin(v: Vcpu, lock: GuestLock): void {
    const g = this.g;
    g.setAct(v, Act.QNode);
    this.st.qEarly[v.index] = this.st.stalled(predecessor(this.g.vcpus, v, lock));
    const iterations = this.st.qEarly[v.index] ? g.cfg.prevCheckIterations : g.cfg.spinThreshold;
    g.host.armTimer(v.task, iterations * g.cfg.spinIterationNs);
  }

  /** A spinning node's predecessor stopped running: its next check (≤ one check interval) sees it. */
  private checkEarly(v: Vcpu, lock: GuestLock): void {
    if (this.st.qEarly[v.index] || v.act !== Act.QNode || v.task.state !== TaskState.Running)
      return;
    if (!this.st.stalled(predecessor(this.g.vcpus, v, lock))) return;
    this.st.qEarly[v.index] = true;
    this.g.host.armTimer(v.task, this.g.cfg.prevCheckIterations * this.g.cfg.spinIterationNs);
  }

  private notifySuccessor(v: Vcpu, lock: GuestLock): void {
    const i = lock.queue.indexOf(v.index);
    if (i >= 0 && i + 1 < lock.queue.length) this.checkEarly(this.g.vcpus[lock.queue[i + 1]], lock);
  }

  /** Enters `pv_wait_head_or_lock` (the MCS `locked` flag was passed to us). */
  private head(v: Vcpu, lock: GuestLock): void {
    this.g.qstats.add(Q.LockSlowpath);
    this.st.qHashed[v.index] = this.st.qState[v.index] === QState.Hashed;
    this.st.qWaits[v.index] = 0;
    this.headSpin(v, lock);
  }

  /** One round of the head's loop: state running, set pending, spin for the lock. */
  private headSpin(v: Vcpu, lock: GuestLock): void {
    const g = this.g;
    this.st.qState[v.index] = QState.Running;
    this.st.pending[lock.index] = v.index;
    if (lock.holder < 0) {
      this.gotLock(v, lock, xchgLatencyNs(g, v));
      return;
    }
    g.setAct(v, Act.QHead);
    g.host.armTimer(v.task, g.cfg.spinThreshold * g.cfg.spinIterationNs);
    this.poke(lock);
  }

  /** The head owns the lock: leave the queue and pass headship to the next node. */
  private gotLock(v: Vcpu, lock: GuestLock, latencyNs: number): void {
    if (lock.queue[0] !== v.index)
      fail(`pv-qspinlock: vCPU ${v.index} takes the lock but is not the head`);
    this.st.pending[lock.index] = -1;
    lock.queue.shift();
    this.g.acquired(v, lock, latencyNs);
    if (lock.queue.length === 0) {
      this.poke(lock);
      return;
    }
    const next = this.g.vcpus[lock.queue[0]];
    if (this.st.qState[next.index] === QState.Halted) {
      // pv_kick_node: leave it asleep, hashed, for the unlock to kick.
      this.st.qState[next.index] = QState.Hashed;
      this.hashInsert(lock, v.lock);
      this.st.slowVal[lock.index] = true;
    } else if (next.act === Act.QNode && next.task.state === TaskState.Running) {
      this.head(next, lock);
    }
  }

  /** Halts in `pv_wait`; the successor's next predecessor check will see it. */
  private halt(v: Vcpu, lock: GuestLock): void {
    this.halts += 1;
    this.g.setAct(v, Act.QHalted);
    this.notifySuccessor(v, lock);
    this.g.host.sleep(v.task);
  }

  /** Back from `pv_wait` (only kicks wake a halted vCPU here). */
  private woke(v: Vcpu, lock: GuestLock): void {
    const g = this.g;
    if (this.st.kickedAtNs[v.index] >= 0) {
      g.qstats.add(Q.LatencyWake, g.now - this.st.kickedAtNs[v.index]);
      g.qstats.add(Q.KickWake);
      this.st.kickedAtNs[v.index] = -1;
    }
    if (this.st.qWaits[v.index] > 0) {
      this.headSpin(v, lock);
      return;
    }
    if (this.st.qState[v.index] === QState.Halted) this.st.qState[v.index] = QState.Running;
    if (lock.queue[0] === v.index) {
      this.head(v, lock);
      return;
    }
    g.qstats.add(Q.SpuriousWakeup);
    this.nodeSpin(v, lock);
  }

  /** `pv_hash` of `lock` (number `index`): its slot is remembered, the probes counted. */
  private hashInsert(lock: GuestLock, index: number): void {
    const [slot, hops] = this.table.insert(index);
    this.st.hashSlot[lock.index] = slot;
    this.g.qstats.add(Q.HashHops, hops);
  }
}
