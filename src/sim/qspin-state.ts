import { QState } from './vcpu';

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
}
