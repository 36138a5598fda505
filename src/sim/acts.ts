import { Act } from './vcpu';

/**
 * What an activity looks like from outside a vCPU: the timeline shows a vCPU's state as one of
 * these (with the lock it is on, for the three that name one).
 */
export const enum Doing {
  User = 0,
  Kernel = 1,
  /** In the yield hypercall (names its lock). */
  Yield = 2,
  Halted = 3,
  /** Halted or polled in a lock's slow path until kicked (names its lock). */
  Blocked = 4,
  /** Spinning on a lock (names its lock). */
  Spin = 5,
}

/** Everything pvlockfs classifies an activity by, in one place. */
export interface ActInfo {
  /** Waiting for a lock: its algorithm hears when its vCPU is dispatched again. */
  readonly waiting: boolean;
  /** Its running time counts as spinning (`Cat.Spin`), not running. */
  readonly spinning: boolean;
  /** What the timeline shows. */
  readonly doing: Doing;
}

/**
 * Every activity, classified once (the compiler checks each has a row). A pv-ticket waiter in
 * its slow path (`PvHalted`) is blocked while it sleeps, but the running time it gets before its
 * handler runs — a kick's wakeup, a spurious one — is its spin loop's, as the model has always
 * counted it.
 */
export const ACTS = {
  [Act.User]: { waiting: false, spinning: false, doing: Doing.User },
  [Act.Gap]: { waiting: false, spinning: false, doing: Doing.Kernel },
  [Act.Hold]: { waiting: false, spinning: false, doing: Doing.Kernel },
  [Act.SpinTicket]: { waiting: true, spinning: true, doing: Doing.Spin },
  [Act.SpinPv]: { waiting: true, spinning: true, doing: Doing.Spin },
  [Act.Hypercall]: { waiting: false, spinning: false, doing: Doing.Yield },
  [Act.Yielded]: { waiting: false, spinning: false, doing: Doing.Yield },
  [Act.Halted]: { waiting: false, spinning: false, doing: Doing.Halted },
  [Act.PvHalted]: { waiting: true, spinning: true, doing: Doing.Blocked },
  [Act.PleSleep]: { waiting: true, spinning: false, doing: Doing.Blocked },
  [Act.XenPolled]: { waiting: true, spinning: false, doing: Doing.Blocked },
  [Act.QSteal]: { waiting: true, spinning: true, doing: Doing.Spin },
  [Act.QNode]: { waiting: true, spinning: true, doing: Doing.Spin },
  [Act.QHead]: { waiting: true, spinning: true, doing: Doing.Spin },
  [Act.QHalted]: { waiting: true, spinning: false, doing: Doing.Blocked },
} as const satisfies Record<Act, ActInfo>;

const ROWS: readonly ActInfo[] = Object.values(ACTS);
// The hot path asks these per event: flat arrays, indexed by activity.
const WAITING = Uint8Array.from(ROWS, (r) => (r.waiting ? 1 : 0));
const SPINNING = Uint8Array.from(ROWS, (r) => (r.spinning ? 1 : 0));
const DOING = Uint8Array.from(ROWS, (r) => r.doing);

/** Whether a vCPU in this activity is waiting for a lock (the algorithm hears of its dispatch). */
export function isWaiting(act: Act): boolean {
  return WAITING[act] === 1;
}

/** Whether this activity's running time is spinning time. */
export function isSpinning(act: Act): boolean {
  return SPINNING[act] === 1;
}

/** What the timeline shows of this activity. */
export function doingOf(act: Act): Doing {
  return DOING[act] as Doing;
}
