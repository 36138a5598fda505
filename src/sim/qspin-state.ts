import { fail } from './assert';
import { TaskState } from './task';
import { GuestLock, QState, Vcpu } from './vcpu';

/** The pv qspinlock's own per-vCPU and per-lock state (indexed by vCPU and lock number). */
export class QspinState {
  /** Per vCPU: its node state (`vcpu_running`, `vcpu_halted`, `vcpu_hashed`). */
  readonly qState: Uint8Array;
  /** Per vCPU: a pending early-wait check (its predecessor was seen not running). */
  readonly qEarly: boolean[];
  /** Per vCPU: waits at the queue head in this acquisition. */
  readonly qWaits: Uint32Array;
  /** Per vCPU: it hashed its lock once in this acquisition (the kernel's `lp`). */
  readonly qHashed: boolean[];
  /** Per vCPU: when it was kicked (-1: not kicked since it last woke). */
  readonly kickedAtNs: Float64Array;
  /** Per lock: the vCPU that set the pending bit (-1: clear). The MCS queue is `lock.queue`, head first. */
  readonly pending: Int32Array;
  /** Per lock: the locked byte holds `_Q_SLOW_VAL` (a halted head is hashed; unlock must kick). */
  readonly slowVal: boolean[];
  /** Per lock: its hash-table slot while hashed (-1: not hashed). */
  readonly hashSlot: Int32Array;

  /** State for `vcpus` vCPUs and `locks` locks, all idle. */
  constructor(vcpus: number, locks: number) {
    this.qState = new Uint8Array(vcpus).fill(QState.Running);
    this.qEarly = new Array<boolean>(vcpus).fill(false);
    this.qWaits = new Uint32Array(vcpus);
    this.qHashed = new Array<boolean>(vcpus).fill(false);
    this.kickedAtNs = new Float64Array(vcpus).fill(-1);
    this.pending = new Int32Array(locks).fill(-1);
    this.slowVal = new Array<boolean>(locks).fill(false);
    this.hashSlot = new Int32Array(locks).fill(-1);
  }

  /** Whether lock `i` is marked `_Q_SLOW_VAL` without a hash slot (an invariant: never). */
  slowWithoutSlot(i: number): boolean {
    return this.slowVal[i] && this.hashSlot[i] < 0;
  }

  /** `pv_wait_early`'s test: the predecessor `p` is halted or preempted. */
  stalled(p: Vcpu): boolean {
    return this.qState[p.index] !== QState.Running || p.task.state !== TaskState.Running;
  }
}

/** The node before `v` in `lock`'s MCS queue (a programmer error if `v` is the head). */
export function predecessor(vcpus: readonly Vcpu[], v: Vcpu, lock: GuestLock): Vcpu {
  const i = lock.queue.indexOf(v.index);
  if (!(i > 0)) fail(`pv-qspinlock: vCPU ${v.index} has no predecessor`);
  return vcpus[lock.queue[i - 1]];
}
