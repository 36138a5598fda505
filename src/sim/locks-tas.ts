import { fail } from './assert';
import type { Guest } from './guest';
import { Act, GuestLock, LockAlgorithmImpl, LockCounts, Vcpu } from './vcpu';
import { firstToExchange, xchgLatencyNs } from './handoff';

/**
 * The unfair test-and-set byte lock x86 guests fall back to without pv spinlocks
 * (`virt_spin_lock`, arch/x86/include/asm/qspinlock.h, 4.2+; the "unfair byte lock" of the 2015
 * measurements): spin until the byte reads free, then exchange. No queue, no countdown, no slow
 * path, no statistics (the guest keeps an all-zero RFC directory). Whoever runs when the lock is
 * released races for it, so a preempted waiter never blocks the others.
 */
export class TasLock implements LockAlgorithmImpl {
  /** Spinners are acquiring vCPUs: a release nobody waits for has nobody to race. */
  readonly idleWhenUncontended = true;
  readonly counts = new LockCounts();

  constructor(private readonly g: Guest) {}

  /** Exchange at once when the byte is free; otherwise spin. */
  begin(v: Vcpu): void {
    const lock = this.g.locks[v.lock];
    lock.spinners.push(v.index);
    if (lock.holder < 0) this.win(v, lock, xchgLatencyNs(this.g, v));
    else this.g.setAct(v, Act.SpinPv);
  }

  /** A spinner runs again and finds the byte free: its exchange wins. */
  dispatched(v: Vcpu): void {
    const lock = this.g.locks[v.lock];
    if (v.act === Act.SpinPv && lock.holder < 0) this.win(v, lock, xchgLatencyNs(this.g, v));
  }

  /** No timers: a test-and-set spinner spins until the byte is free. */
  timer(v: Vcpu): void {
    fail(`tas: timer in activity ${v.act}`);
  }

  /** Running spinners race for the released byte; the nearest cache line wins. */
  released(lock: GuestLock): void {
    const first = firstToExchange(this.g, lock, Act.SpinPv, lock.spinners);
    if (first !== null) this.win(first.v, lock, first.latencyNs);
  }

  private win(v: Vcpu, lock: GuestLock, latencyNs: number): void {
    const i = lock.spinners.indexOf(v.index);
    if (!(i >= 0)) fail(`tas: vCPU ${v.index} wins a lock it was not acquiring`);
    lock.spinners.splice(i, 1);
    this.g.acquired(v, lock, latencyNs);
  }
}
