import { fail } from './assert';
import type { Guest } from './guest';
import { Mark } from './trace';
import { grantNextTicket, isPreempted, stopSpinning, TicketLock } from './locks';
import { Histo, SlowCount } from './stats';
import { TaskState } from './task';
import { Act, GuestLock, Vcpu } from './vcpu';
import { pickupStallNs, transferNs } from './handoff';

/**
 * The KVM pv ticketlock of Linux 3.12–4.8 (arch/x86/kernel/kvm.c, `kvm_lock_spinning` /
 * `kvm_unlock_kick`): a FIFO ticket lock whose waiters spin `spinThreshold` iterations
 * (2^15) while running, then enter the slow path and halt; the unlocker hands the lock to the next
 * ticket and, if that vCPU is halted, kicks it awake (`KVM_HC_KICK_CPU`: a wakeup with sleeper
 * credit). A next-in-line vCPU that is merely preempted still gets the lock and must be scheduled.
 * Statistics as 3.12 keeps them (kvm-guest/spinlocks): `taken_slow` per slow-path entry,
 * `taken_slow_pickup` when the lock is found ours on entry, a blocked sample from entry to the
 * wakeup, `released_slow` per unlock that finds the slow-path flag set and `released_slow_kicked`
 * when that unlock kicks the halted next ticket. The flag is cleared when the queue empties.
 */
export class PvTicketLock extends TicketLock {
  /** Per lock: its slow-path flag (a waiter may be halted on it). */
  private readonly slowFlag: Uint8Array;

  constructor(g: Guest) {
    super(g);
    this.slowFlag = new Uint8Array(g.locks.length);
  }

  /** A waiter runs again (after a preemption, or kicked out of its halt). */
  override dispatched(v: Vcpu): void {
    const lock = this.g.locks[v.lock];
    if (v.act === Act.PvHalted) this.g.stats.addSample(Histo.Blocked, this.g.now - v.startSlowNs);
    if (v.granted)
      this.g.acquired(
        v,
        lock,
        transferNs(this.g, lock.lastCpu, v.task.cpu) + pickupStallNs(this.g, v),
      );
    else if (v.act === Act.PvHalted) this.spin(v);
  }

  /** The spin budget ran out: enter the slow path and halt until kicked. */
  override timer(v: Vcpu): void {
    if (v.act !== Act.SpinTicket) fail(`pv-ticket timer in activity ${v.act}`);
    const g = this.g;
    const lock = g.locks[v.lock];
    this.counts.slowPaths += 1;
    g.stats.addTakenSlow();
    v.startSlowNs = g.now;
    this.slowFlag[lock.index] = 1;
    if (lock.holder === v.index) {
      // The lock was handed to us before we halted: leave the slow path at once.
      g.stats.addSlowCount(SlowCount.Pickup);
      g.stats.addSample(Histo.Blocked, 0);
      g.acquired(v, lock, transferNs(g, lock.lastCpu, v.task.cpu));
      return;
    }
    g.setAct(v, Act.PvHalted);
    g.host.sleep(v.task);
  }

  /** Hands the lock to the next ticket; kicks it if it is halted. */
  override released(lock: GuestLock): void {
    const flagged = this.slowFlag[lock.index] === 1;
    if (flagged) this.g.stats.addSlowCount(SlowCount.Released);
    const next = lock.queue.shift();
    if (lock.queue.length === 0) this.slowFlag[lock.index] = 0;
    if (next === undefined) return;
    const w = grantNextTicket(this.g, lock, next);
    if (w === null) return;
    if (w.act === Act.PvHalted && w.task.state === TaskState.Sleeping) {
      this.counts.kicks += 1;
      this.g.note(Mark.Kick, w.index);
      if (flagged) this.g.stats.addSlowCount(SlowCount.Kicked);
      this.g.kvm.kick(w);
    } else {
      this.counts.grantsToPreempted += 1;
      this.g.note(Mark.GrantToPreempted, w.index);
    }
  }

  /** Spins up to SPIN_THRESHOLD iterations of running time before the slow path. */
  protected override spin(v: Vcpu): void {
    const g = this.g;
    g.setAct(v, Act.SpinTicket);
    if (g.cfg.runState && this.ownerIsPreempted(g.locks[v.lock], v)) stopSpinning(g, v);
    else g.host.armTimer(v.task, g.cfg.spinThreshold * g.cfg.spinIterationNs);
  }

  /** Solution (c): the holder, or the next in line ahead of `v`, is preempted. */
  private ownerIsPreempted(lock: GuestLock, v: Vcpu): boolean {
    const next = lock.queue.length > 0 ? lock.queue[0] : -1;
    return isPreempted(this.g, lock.holder) || (next !== v.index && isPreempted(this.g, next));
  }

  /** Solution (c): the holder or the next in line was preempted; spinners behind it halt. */
  ownerPreempted(lock: GuestLock): void {
    for (const i of lock.queue) {
      const w = this.g.vcpus[i];
      if (
        w.act === Act.SpinTicket &&
        w.task.state === TaskState.Running &&
        this.ownerIsPreempted(lock, w)
      )
        stopSpinning(this.g, w);
    }
  }
}
