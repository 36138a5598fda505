import { fail } from './assert';
import { doubleFields } from './doubles';
import type { Rng } from './rng';
import type { Task } from './task';
import { CAT_COUNT, Cat, LatencyHisto } from './instruments';

/** What a vCPU's guest code is doing. */
export const enum Act {
  User = 0,
  Gap = 1,
  Hold = 2,
  SpinTicket = 3,
  SpinPv = 4,
  Hypercall = 5,
  Yielded = 6,
  Halted = 7,
  /** pv-ticket: halted in the slow path, waiting to be kicked. */
  PvHalted = 8,
  /** Ticket waiter put to sleep by the host after a pause-loop exit (2.6.35 PLE). */
  PleSleep = 9,
  /** xen-block: blocked in `xen_poll_irq` until an unlocker's kick makes its event pending. */
  XenPolled = 10,
  /** pv-hybrid: spinning in the hybrid unfair trylock, ready to steal. */
  QSteal = 11,
  /** pv-qspinlock: a queued (non-head) MCS node spinning on its `locked` flag. */
  QNode = 12,
  /** pv-qspinlock: the queue head spinning with the pending bit set. */
  QHead = 13,
  /** pv-qspinlock: halted in `pv_wait` (as a node or as the head). */
  QHalted = 14,
}

/** pv-qspinlock node states (`vcpu_running`, `vcpu_halted`, `vcpu_hashed`). */
export const enum QState {
  Running = 0,
  Halted = 1,
  Hashed = 2,
}

/** One guest vCPU: its host task, its guest activity and its accounting. */
export class Vcpu {
  act = Act.User;
  lock = -1;
  burstLeft = 0;
  segWorkNs = 0;
  startTotalNs = 0;
  startSpinNs = 0;
  startSlowNs = 0;
  /** Ticket lock: the lock was handed to this vCPU while it was not running. */
  granted = false;
  cat = Cat.Run;
  catSinceNs = 0;
  readonly timeNs = new Float64Array(CAT_COUNT);
  overheadNs = 0;
  acquisitions = 0;
  slowPaths = 0;
  preemptedHolding = 0;
  /**
   * Preempted-holder waste: time spinning (0) or in the yield hypercall (1) while the lock this
   * vCPU waits for is held by — or handed to — a vCPU the host has preempted. `lhpKind` is what
   * the current stint counts as (-1: nothing), since `lhpSinceNs`.
   */
  readonly lhpNs = new Float64Array(2);
  lhpKind = -1;
  lhpSinceNs = 0;
  readonly wait = new LatencyHisto();
  constructor(
    readonly index: number,
    readonly task: Task,
    /** This vCPU's workload stream: user stretches, bursts, lock choice, holds, halts, stalls. */
    readonly rng: Rng,
  ) {
    doubleFields(this, [
      'segWorkNs',
      'startTotalNs',
      'startSpinNs',
      'startSlowNs',
      'catSinceNs',
      'overheadNs',
      'lhpSinceNs',
    ]);
  }
}

/**
 * The hot state of a guest's locks, side by side in one array (four numbers per lock: holder,
 * last pCPU, waiter count, convoy start): an acquisition reads and writes one short stretch of
 * memory instead of an object and its boxes, and the state of every lock of a guest fits in the
 * processor's cache (eight guests of a thousand locks each no longer do as objects).
 */
export class LockTable {
  /** The numbers, lock by lock (see the offsets below). */
  private readonly f: Float64Array;

  /** Told of every change of a lock's holder, and the one before (the preempted-holder accounting). */
  onHolder: ((i: number, before: number) => void) | null = null;

  constructor(readonly count: number) {
    this.f = new Float64Array(count * LOCK_FIELDS);
    for (let i = 0; i < count; i++) {
      this.f[i * LOCK_FIELDS + LockField.Holder] = -1;
      this.f[i * LOCK_FIELDS + LockField.LastCpu] = -1;
      this.f[i * LOCK_FIELDS + LockField.ConvoySince] = -1;
    }
  }

  /** The vCPU owning lock `i` (or granted it), -1 when free. */
  holder(i: number): number {
    return this.f[i * LOCK_FIELDS + LockField.Holder];
  }
  setHolder(i: number, v: number): void {
    const at = i * LOCK_FIELDS + LockField.Holder;
    const before = this.f[at];
    if (before === v) return;
    this.f[at] = v;
    if (this.onHolder !== null) this.onHolder(i, before);
  }
  /** The pCPU that last touched lock `i` (its cache line is there), -1 before anyone did. */
  lastCpu(i: number): number {
    return this.f[i * LOCK_FIELDS + LockField.LastCpu];
  }
  setLastCpu(i: number, c: number): void {
    this.f[i * LOCK_FIELDS + LockField.LastCpu] = c;
  }
  /** vCPUs acquiring lock `i` (from the first attempt until they own it). */
  waiting(i: number): number {
    return this.f[i * LOCK_FIELDS + LockField.Waiting];
  }
  setWaiting(i: number, n: number): void {
    this.f[i * LOCK_FIELDS + LockField.Waiting] = n;
  }
  /** When lock `i`'s convoy episode began, -1 when none is open. */
  convoySinceNs(i: number): number {
    return this.f[i * LOCK_FIELDS + LockField.ConvoySince];
  }
  setConvoySinceNs(i: number, ns: number): void {
    this.f[i * LOCK_FIELDS + LockField.ConvoySince] = ns;
  }
}

/** Numbers per lock in `LockTable.f`, and their order. */
const LOCK_FIELDS = 4;
const enum LockField {
  Holder = 0,
  LastCpu = 1,
  Waiting = 2,
  ConvoySince = 3,
}

/**
 * One guest spinlock. `holder` is the vCPU owning it (or granted it), -1 when free; it and the
 * other numbers live in the guest's `LockTable` (the hot paths read that directly, by index).
 */
export class GuestLock {
  /** Creates lock number `index` (its place in the guest's lock list) over the guest's table. */
  constructor(
    readonly index: number,
    private readonly table: LockTable,
  ) {}
  /** Ticket lock: FIFO of waiting vCPUs (the tickets after the owner's). */
  readonly queue: number[] = [];
  /** pv lock: vCPUs inside `__kvm_spin_lock` for this lock (spinning, in the hypercall or yielded). */
  readonly spinners: number[] = [];

  get holder(): number {
    return this.table.holder(this.index);
  }
  set holder(v: number) {
    this.table.setHolder(this.index, v);
  }
  get lastCpu(): number {
    return this.table.lastCpu(this.index);
  }
  set lastCpu(c: number) {
    this.table.setLastCpu(this.index, c);
  }
  get waiting(): number {
    return this.table.waiting(this.index);
  }
  get convoySinceNs(): number {
    return this.table.convoySinceNs(this.index);
  }
}

/** The lock algorithm seen by the guest: how a vCPU acquires and how a release hands over. */
export interface LockAlgorithmImpl {
  /** Its counts (see `LockCounts`). */
  readonly counts: LockCounts;
  /** A vCPU starts acquiring `v.lock` at `now`. */
  begin(v: Vcpu): void;
  /** A vCPU waiting for a lock was dispatched. */
  dispatched(v: Vcpu): void;
  /** A waiting vCPU's timer fired (spin budget, hypercall, return from yield). */
  timer(v: Vcpu): void;
  /** `lock` was just released; hand it over. */
  released(lock: GuestLock): void;
  /**
   * Whether `released` does nothing when no vCPU is acquiring the lock (then the guest does not
   * call it for an uncontended release).
   */
  readonly idleWhenUncontended: boolean;
  /** Optional: a vCPU waiting for or holding a lock was just descheduled. */
  descheduled?(v: Vcpu): void;
  /**
   * Optional (solution (c), run-state sharing): a vCPU holding or waiting for `lock` was just
   * preempted; spinners that now see a preempted owner stop spinning.
   */
  ownerPreempted?(lock: GuestLock): void;
}

/**
 * What every lock algorithm reports (`run --json`'s locks), each algorithm counting its own:
 * those it has no such event for stay 0.
 */
export class LockCounts {
  /** A ticket handed to a waiter that was not running. */
  grantsToPreempted = 0;
  /** The yield hypercalls (pv-yield and its kin), and those after which another task ran. */
  yields = 0;
  yieldsSwitched = 0;
  /** pv-ticket: slow-path entries. */
  slowPaths = 0;
  /** Unlocks that kicked a halted (or polled) waiter. */
  kicks = 0;
  /** Run-state sharing (solution (c)): spins cut short or skipped because the owner was preempted. */
  runStateStops = 0;
}

/** A broken lock invariant of vCPU `v` (the message is built out of line: see queue.ts). */
export function badLock(v: Vcpu, what: string): never {
  fail(`vCPU ${v.index} ${what}`);
}
