import { assert, fail } from './assert';
import type { Guest } from './guest';
import { Mark } from './trace';
import { TaskState } from './task';
import { Act, GuestLock, LockAlgorithmImpl, LockCounts, Vcpu } from './vcpu';
import { Histo } from './stats';
import { contendedNs, firstToExchange, pickupStallNs, transferNs, xchgLatencyNs } from './handoff';

/** Never-taking-the-slow-path value of `timeout` (the RFC's `TIMEOUT == ~0`). */
export const TIMEOUT_NEVER_YIELD = 0xffffffff;
const TWO32 = 4294967296;

/**
 * The stock 2.6.35 x86 ticket lock: strict FIFO, spin forever, no paravirt hooks (the host offers
 * no KVM_FEATURE_YIELD, so the debugfs statistics stay zero). A release hands the lock to the
 * next ticket even when that vCPU is preempted. With `grantOnlyToRunning` (an ablation) the
 * release skips preempted waiters instead.
 */
export class TicketLock implements LockAlgorithmImpl {
  /** A release with no ticket queued behind still has work (pv-ticket's flag): always called. */
  readonly idleWhenUncontended: boolean = false;
  readonly counts = new LockCounts();

  constructor(protected readonly g: Guest) {}

  /** Takes a ticket; acquires at once when the lock is free and nobody is queued. */
  begin(v: Vcpu): void {
    const lock = this.g.locks[v.lock];
    if (lock.holder < 0 && (lock.queue.length === 0 || this.g.cfg.grantOnlyToRunning)) {
      this.g.acquired(v, lock, xchgLatencyNs(this.g, v));
      return;
    }
    lock.queue.push(v.index);
    this.spin(v);
  }

  /** A queued vCPU runs again: it picks up a lock granted meanwhile (or, in the ablation, a free one). */
  dispatched(v: Vcpu): void {
    const lock = this.g.locks[v.lock];
    if (v.granted) {
      this.g.acquired(
        v,
        lock,
        transferNs(this.g, lock.lastCpu, v.task.cpu) + pickupStallNs(this.g, v),
      );
    } else if (lock.holder < 0 && this.g.cfg.grantOnlyToRunning) {
      lock.queue.splice(lock.queue.indexOf(v.index), 1);
      this.g.acquired(v, lock, xchgLatencyNs(this.g, v));
    } else if (v.act === Act.PleSleep) {
      this.spin(v);
    }
  }

  /** Pause-loop exit (ticket waiters have a timer only with PLE): the host's to handle. */
  timer(v: Vcpu): void {
    if (this.g.cfg.ple === 'off' || v.act !== Act.SpinTicket)
      fail(`ticket waiter ${v.index} had a timer`);
    if (this.g.kvm.pauseLoopExit(v)) this.spin(v);
  }

  /** A queued waiter spins (with pause-loop exiting, until the PLE window runs out). */
  protected spin(v: Vcpu): void {
    this.g.setAct(v, Act.SpinTicket);
    if (this.g.cfg.ple !== 'off') this.g.host.armTimer(v.task, this.g.cfg.pleWindowNs);
  }

  /** Hands the lock to the next ticket (or the first running waiter in the ablation). */
  released(lock: GuestLock): void {
    if (lock.queue.length === 0) return;
    let next: number;
    if (this.g.cfg.grantOnlyToRunning) {
      const i = lock.queue.findIndex((w) => this.g.vcpus[w].task.state === TaskState.Running);
      if (i < 0) return;
      next = lock.queue.splice(i, 1)[0];
    } else {
      next = lock.queue.shift() as number;
    }
    const w = grantNextTicket(this.g, lock, next);
    if (w === null) return;
    this.counts.grantsToPreempted += 1;
    this.g.note(Mark.GrantToPreempted, w.index);
  }
}

/**
 * The ticket hand-off shared by the ticket locks: `lock` goes to the vCPU holding ticket `next`.
 * A running spinner takes it at once; any other waiter is granted it and takes it when it runs
 * again (the lock sits idle meanwhile). Returns that waiter, or null when the lock was taken.
 */
export function grantNextTicket(g: Guest, lock: GuestLock, next: number): Vcpu | null {
  const w = g.vcpus[next];
  if (g.tracer !== null) g.tracer.held(lock, w.index, w.task.state !== TaskState.Running);
  lock.holder = w.index;
  if (w.task.state === TaskState.Running && w.act === Act.SpinTicket) {
    const contended = contendedNs(g, 1 + runningSpinners(g, lock.queue));
    g.acquired(w, lock, transferNs(g, lock.lastCpu, w.task.cpu) + contended + pickupStallNs(g, w));
    return null;
  }
  w.granted = true;
  return w;
}

/** How many of the ticket waiters `queue` spin on a CPU now (they re-read a released line). */
function runningSpinners(g: Guest, queue: readonly number[]): number {
  if (g.handoffPerSpinnerNs === 0) return 0;
  let n = 0;
  for (const i of queue) {
    const w = g.vcpus[i];
    if (w.act === Act.SpinTicket && w.task.state === TaskState.Running) n += 1;
  }
  return n;
}

/** Whether vCPU `i` is preempted: runnable but not running (steal time's `preempted` flag). */
export function isPreempted(g: Guest, i: number): boolean {
  return i >= 0 && g.vcpus[i].task.state === TaskState.Runnable;
}

/**
 * Solution (c): a spinner that sees a preempted owner stops within one spin iteration (the flag
 * is read once per iteration): its spin budget becomes one iteration, then its slow path runs.
 */
export function stopSpinning(g: Guest, v: Vcpu): void {
  g.algo.counts.runStateStops += 1;
  g.host.armTimer(v.task, g.cfg.spinIterationNs);
}

/**
 * The RFC's pv lock (patch 3/4): an unfair test-and-set byte lock. Each attempt spins until the
 * lock is seen free or `timeout` iterations observed it held (counted only while the vCPU runs);
 * a failed attempt takes the slow path — `KVM_HC_YIELD`, i.e. the host's `yield()` — then spins
 * again. Unlock stores 0 and wakes no one. Statistics exactly as docs/debugfs.md §4.
 */
export class PvYieldLock implements LockAlgorithmImpl {
  /** Spinners are acquiring vCPUs: a release nobody waits for has nobody to race. */
  readonly idleWhenUncontended: boolean = true;
  readonly counts = new LockCounts();

  constructor(protected readonly g: Guest) {}

  /** `taken += 1`, then the first attempt. */
  begin(v: Vcpu): void {
    const g = this.g;
    g.stats.addTaken();
    const lock = g.locks[v.lock];
    if (g.lockTable.holder(v.lock) < 0) {
      // The first attempt's exchange wins at once (what `attempt` then `win` do, without
      // entering and leaving the spinner list, or reading the lock object).
      v.startSpinNs = g.now;
      g.acquired(v, lock, xchgLatencyNs(g, v));
      return;
    }
    lock.spinners.push(v.index);
    this.attempt(v);
  }

  /** A spinning vCPU runs again and finds the lock free: its exchange wins. */
  dispatched(v: Vcpu): void {
    const lock = this.g.locks[v.lock];
    if (v.act === Act.SpinPv && lock.holder < 0) this.win(v, lock, xchgLatencyNs(this.g, v));
  }

  /** Countdown exhausted, hypercall done, or back from the host's yield. */
  timer(v: Vcpu): void {
    const g = this.g;
    switch (v.act) {
      case Act.SpinPv:
        g.stats.addSample(Histo.Spinning, g.now - v.startSpinNs);
        if (g.stats.timeout[0] === TIMEOUT_NEVER_YIELD) {
          this.attempt(v);
          return;
        }
        g.stats.addTakenSlow();
        v.slowPaths += 1;
        v.startSlowNs = g.now;
        this.slowPath(v);
        return;
      case Act.Hypercall:
        g.setAct(v, Act.Yielded);
        this.counts.yields += 1;
        if (this.hostYield(v)) {
          this.counts.yieldsSwitched += 1;
          g.host.armTimer(v.task, 0);
        } else this.endSlowPath(v);
        return;
      case Act.Yielded:
        this.endSlowPath(v);
        return;
      default:
        assert(false, `pv timer in activity ${v.act}`);
    }
  }

  /** The slow path after `taken_slow` is counted: the `KVM_HC_YIELD` hypercall. */
  protected slowPath(v: Vcpu): void {
    this.g.setAct(v, Act.Hypercall);
    this.g.host.armTimer(v.task, this.g.cfg.hypercallNs);
  }

  /** What `KVM_HC_YIELD` runs on the host: 2.6.35's plain `yield()`. Returns whether it switched. */
  protected hostYield(v: Vcpu): boolean {
    return this.g.kvm.plainYield(v);
  }

  /** Running spinners race for the released byte; the nearest cache line wins. */
  released(lock: GuestLock): void {
    const first = firstToExchange(this.g, lock, Act.SpinPv, lock.spinners);
    if (first !== null) this.win(first.v, lock, first.latencyNs);
  }

  /** One fast-path attempt: exchange, or spin with a countdown of the current `timeout`. */
  protected attempt(v: Vcpu): void {
    const g = this.g;
    const lock = g.locks[v.lock];
    v.startSpinNs = g.now;
    if (lock.holder < 0) {
      this.win(v, lock, xchgLatencyNs(g, v));
      return;
    }
    // The countdown is decremented before it is tested, so 0 means 2^32 iterations.
    const t = g.stats.timeout[0];
    const iterations = t === 0 ? TWO32 : t;
    g.setAct(v, Act.SpinPv);
    if (g.cfg.runState && isPreempted(g, lock.holder)) stopSpinning(g, v);
    else g.host.armTimer(v.task, iterations * g.cfg.spinIterationNs);
  }

  /** Solution (c): the holder was preempted; its running spinners stop spinning. */
  ownerPreempted(lock: GuestLock): void {
    if (!isPreempted(this.g, lock.holder)) return;
    for (const i of lock.spinners) {
      const w = this.g.vcpus[i];
      if (w.act === Act.SpinPv && w.task.state === TaskState.Running) stopSpinning(this.g, w);
    }
  }

  private endSlowPath(v: Vcpu): void {
    this.g.stats.addSample(Histo.Blocked, this.g.now - v.startSlowNs);
    this.attempt(v);
  }

  /** `v` takes the lock; `spinSample` is false when the winning exchange is not a fast-path attempt's. */
  protected win(v: Vcpu, lock: GuestLock, latencyNs: number, spinSample = true): void {
    const i = lock.spinners.indexOf(v.index);
    if (!(i >= 0)) fail(`vCPU ${v.index} wins a lock it was not acquiring`);
    lock.spinners.splice(i, 1);
    this.g.acquired(v, lock, latencyNs, spinSample);
  }
}

/**
 * The RFC's lock with the host's directed yield of 2.6.39 (`kvm_vcpu_on_spin` → `yield_to`): the
 * hypercall picks, round-robin after the last vCPU it boosted, a sibling that is preempted
 * (runnable, not running, not halted) and boosts it on its pCPU — honoured only when the sibling
 * is within the wakeup granularity of that queue's leftmost task — while the spinner gives way.
 * It does not know the lock holder, so it may boost the wrong sibling.
 */
export class DirectedYieldLock extends PvYieldLock {
  protected override hostYield(v: Vcpu): boolean {
    return this.g.kvm.directedYield(v);
  }
}
