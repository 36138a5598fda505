import type { Machine } from '../sim/machine';
import { Cpu, Task, TaskKind, TaskState } from '../sim/task';
import { LEAVE_NAMES, Leave, Mark, SimTracer } from '../sim/trace';
import { Act, GuestLock, isWaiting, Vcpu } from '../sim/vcpu';
import { GUEST_PID, HOST_PID, TraceEvent, TraceSink } from './event';

/** Locks whose waiter counts are drawn as counters: the most popular of the Zipf population. */
export const HOT_LOCKS = 4;

/** What a timeline calls each mark (the compiler checks every mark has a name). */
const MARK_NAME = {
  [Mark.HolderPreempted]: 'holder preempted',
  [Mark.GrantToPreempted]: 'granted while preempted',
  [Mark.Kick]: 'kick',
  [Mark.PleExit]: 'PLE exit',
  [Mark.DirectedYield]: 'directed yield',
  [Mark.Shootdown]: 'TLB shootdown',
  [Mark.RemoteFlush]: 'remote TLB flush',
} as const satisfies Record<Mark, string>;
const MARK_NAMES: readonly (typeof MARK_NAME)[Mark][] = Object.values(MARK_NAME);

/** What a recorder counted in its window (the marks, by name). */
export type MarkCounts = Record<(typeof MARK_NAMES)[number], number>;

/** A task's name on a pCPU track (a vCPU of one of several guests is named after its guest). */
export function taskName(t: Task, guestNames: readonly string[] = []): string {
  if (t.kind === TaskKind.Vcpu)
    return guestNames.length > 1 ? `${guestNames[t.owner]} vCPU ${t.index}` : `vCPU ${t.index}`;
  return t.kind === TaskKind.Hog ? `hog ${t.index}` : 'host work';
}

/** What a vCPU's guest code is doing, in a few words (`lockName` names its lock). */
export function doing(v: Vcpu): string {
  const on = v.lock >= 0 ? ` L${v.lock}` : '';
  switch (v.act) {
    case Act.User:
      return 'user';
    case Act.Gap:
    case Act.Hold:
      return 'kernel';
    case Act.Hypercall:
    case Act.Yielded:
      return `yield hypercall${on}`;
    case Act.Halted:
      return 'halted';
    case Act.PvHalted:
    case Act.PleSleep:
    case Act.XenPolled:
    case Act.QHalted:
      return `blocked${on}`;
    default:
      return `spin${on}`;
  }
}

/** A vCPU track's state: what its code does, or that it is runnable but preempted. */
function vcpuState(v: Vcpu): string | null {
  switch (v.task.state) {
    case TaskState.Running:
    case TaskState.Sleeping:
      return doing(v);
    case TaskState.Runnable:
      return `preempted (${doing(v)})`;
    default:
      return null;
  }
}

/** Why `t` left its pCPU, in words (a sleep says whether the vCPU halted or blocked on a lock). */
function leftFor(t: Task, why: Leave, m: Machine): string {
  if (why !== Leave.Sleep || t.kind !== TaskKind.Vcpu) return LEAVE_NAMES[why];
  const v = m.guests[t.owner].vcpus[t.index];
  if (v.act === Act.Halted) return 'halt';
  return isWaiting(v.act) ? 'block' : 'sleep';
}

/**
 * Turns what the simulation reports into timeline events for one window: a track per pCPU (the
 * task running, and why it left), a track per vCPU (its state; its lock holds as async spans),
 * instants for the moments that explain lock-holder preemption, and counters. `open` starts the
 * window where the machine stands (every track's state at that instant), `close` ends it,
 * closing what is open; a sink that fills up ends it early.
 */
export class Recorder implements SimTracer {
  private readonly cpuSpan: (string | null)[];
  private readonly vcpuSpan: (string | null)[] = [];
  /** Per lock: the number of its open hold (−1: none) and the holder. */
  private readonly holdId: Int32Array;
  private readonly holdBy: Int32Array;
  private readonly lastQueued: Int32Array;
  private readonly lastWaiters: Int32Array;
  private nextHold = 1;
  private stopped = true;
  /** The marks made in the window, by kind. */
  readonly marks = new Int32Array(MARK_NAMES.length);
  /** Simulated time the window ended (set by close, or when the sink filled up). */
  endNs = -1;

  constructor(
    private readonly m: Machine,
    private readonly sink: TraceSink,
  ) {
    this.cpuSpan = m.host.cpus.map(() => null);
    // Every guest's vCPUs and locks in one numbering: guest g's start at vcpuBase[g], lockBase[g].
    let vcpus = 0;
    let locks = 0;
    for (const [g, guest] of m.guests.entries()) {
      this.vcpuBase.push(vcpus);
      this.lockBase.push(locks);
      vcpus += guest.vcpus.length;
      locks += guest.locks.length;
      for (const l of guest.locks) this.lockGuest.set(l, g);
    }
    this.vcpuSpan = new Array<string | null>(vcpus).fill(null);
    this.holdId = new Int32Array(locks).fill(-1);
    this.holdBy = new Int32Array(locks).fill(-1);
    this.lastQueued = new Int32Array(m.host.cpus.length).fill(-1);
    this.hot = Math.min(HOT_LOCKS, m.cfg.locks);
    this.lastWaiters = new Int32Array(this.hot * m.guests.length).fill(-1);
    this.names = m.multi ? m.names : [];
  }

  private readonly vcpuBase: number[] = [];
  private readonly lockBase: number[] = [];
  private readonly lockGuest = new Map<GuestLock, number>();
  private readonly hot: number;
  /** The guests' names when there are several (their processes and vCPU tasks carry them). */
  private readonly names: readonly string[];

  /** The process of guest `g`'s tracks. */
  private pid(g: number): number {
    return GUEST_PID + g;
  }

  /** Whether the window is over (closed, or the sink filled up). */
  get done(): boolean {
    return this.stopped && this.endNs >= 0;
  }

  /** The marks counted, by name. */
  markCounts(): MarkCounts {
    const out = {} as MarkCounts;
    MARK_NAMES.forEach((n, i) => (out[n] = this.marks[i]));
    return out;
  }

  /** Writes the track names and every track's state at the current instant; starts recording. */
  open(): void {
    const { host, guests } = this.m;
    this.meta('process_name', HOST_PID, 0, 'host');
    this.meta('process_sort_index', HOST_PID, 0, 0);
    for (const c of host.cpus) {
      this.meta('thread_name', HOST_PID, c.id, `pCPU ${c.id} (pkg ${c.pkg})`);
      this.meta('thread_sort_index', HOST_PID, c.id, c.id);
    }
    guests.forEach((guest, g) => {
      const name = this.names.length > 0 ? `guest ${this.names[g]}` : 'guest';
      this.meta('process_name', this.pid(g), 0, name);
      this.meta('process_sort_index', this.pid(g), 0, 1 + g);
      for (const v of guest.vcpus) {
        this.meta('thread_name', this.pid(g), v.index, `vCPU ${v.index}`);
        this.meta('thread_sort_index', this.pid(g), v.index, v.index);
      }
    });
    this.stopped = false;
    for (const c of host.cpus) {
      if (c.curr !== null) this.beginCpu(c, c.curr);
      this.queued(c);
    }
    for (const guest of guests) {
      for (const v of guest.vcpus) this.vcpu(v);
      for (const l of guest.locks) if (l.holder >= 0) this.beginHold(l, l.holder, { before: true });
      for (let i = 0; i < this.hot; i++) this.waiters(guest.locks[i]);
    }
  }

  /** Ends the window now: closes every open span at the current instant. */
  close(): void {
    if (this.stopped) return;
    const ts = this.m.nowNs;
    this.m.guests.forEach((guest, g) => {
      for (const l of guest.locks)
        if (this.holdId[this.lockBase[g] + l.index] >= 0)
          this.endHold(l, ts, { after: true }, true);
    });
    this.cpuSpan.forEach((s, c) => {
      if (s !== null) this.sink.event({ ph: 'E', name: s, ts, pid: HOST_PID, tid: c });
    });
    this.m.guests.forEach((guest, g) => {
      for (const v of guest.vcpus) {
        const s = this.vcpuSpan[this.vcpuBase[g] + v.index];
        if (s !== null) this.sink.event({ ph: 'E', name: s, ts, pid: this.pid(g), tid: v.index });
      }
    });
    this.stopped = true;
    this.endNs = ts;
  }

  /** A knob was written (`zero_stats` applied, `timeout` changed …): a global instant. */
  knob(name: string, value: bigint | null): void {
    if (this.stopped) return;
    const label = name === 'zero_stats' ? 'zero_stats applied' : `${name} written`;
    const args = value === null ? undefined : { file: name, value: value.toString() };
    this.emit({ ph: 'i', s: 'g', name: label, ts: this.m.nowNs, pid: HOST_PID, tid: 0, args });
  }

  switched(cpu: Cpu, prev: Task | null, next: Task | null, why: Leave): void {
    if (this.stopped) return;
    const ts = this.m.nowNs;
    const open = this.cpuSpan[cpu.id];
    if (prev !== null && open !== null) {
      const left = leftFor(prev, why, this.m);
      this.cpuSpan[cpu.id] = null;
      this.emit({ ph: 'E', name: open, ts, pid: HOST_PID, tid: cpu.id, args: { left } });
    }
    if (next !== null) this.beginCpu(cpu, next);
  }

  queued(cpu: Cpu): void {
    const n = cpu.nrRunning;
    if (this.stopped || this.lastQueued[cpu.id] === n) return;
    this.lastQueued[cpu.id] = n;
    const name = `runnable pCPU ${cpu.id}`;
    this.emit({ ph: 'C', name, ts: this.m.nowNs, pid: HOST_PID, tid: 0, args: { tasks: n } });
  }

  vcpu(v: Vcpu): void {
    if (this.stopped) return;
    const state = vcpuState(v);
    const g = v.task.owner;
    const key = this.vcpuBase[g] + v.index;
    const open = this.vcpuSpan[key];
    if (state === open) return;
    const ts = this.m.nowNs;
    const pid = this.pid(g);
    this.vcpuSpan[key] = null;
    if (open !== null) this.emit({ ph: 'E', name: open, ts, pid, tid: v.index });
    if (state === null || this.stopped) return;
    this.vcpuSpan[key] = state;
    this.emit({ ph: 'B', name: state, ts, pid, tid: v.index });
  }

  /** A lock's place in the one numbering of every guest's locks. */
  private lockKey(lock: GuestLock): number {
    return this.lockBase[this.lockGuest.get(lock) as number] + lock.index;
  }

  held(lock: GuestLock, v: number, granted: boolean): void {
    if (this.stopped) return;
    if (this.holdId[this.lockKey(lock)] >= 0) this.endHold(lock, this.m.nowNs);
    if (this.stopped) return;
    this.beginHold(lock, v, granted ? { granted_while_preempted: true } : undefined);
  }

  released(lock: GuestLock): void {
    if (this.stopped || this.holdId[this.lockKey(lock)] < 0) return;
    this.endHold(lock, this.m.nowNs);
  }

  waiters(lock: GuestLock): void {
    const i = lock.index;
    if (this.stopped || i >= this.hot) return;
    const g = this.lockGuest.get(lock) as number;
    const k = g * this.hot + i;
    if (this.lastWaiters[k] === lock.waiting) return;
    this.lastWaiters[k] = lock.waiting;
    const name = `waiters L${i}`;
    const args = { vCPUs: lock.waiting };
    this.emit({ ph: 'C', name, ts: this.m.nowNs, pid: this.pid(g), tid: 0, args });
  }

  mark(m: Mark, w: Vcpu, other: number): void {
    if (this.stopped) return;
    this.marks[m] += 1;
    const args: Record<string, number> = {};
    if (w.lock >= 0) args.lock = w.lock;
    if (other >= 0) args.to = other;
    const name = MARK_NAMES[m];
    const pid = this.pid(w.task.owner);
    this.emit({ ph: 'i', s: 't', name, ts: this.m.nowNs, pid, tid: w.index, args });
  }

  private beginCpu(c: Cpu, t: Task): void {
    if (this.stopped) return;
    const name = taskName(t, this.names);
    this.cpuSpan[c.id] = name;
    this.emit({ ph: 'B', name, ts: this.m.nowNs, pid: HOST_PID, tid: c.id });
  }

  private beginHold(lock: GuestLock, v: number, args?: Record<string, boolean>): void {
    if (this.stopped) return;
    const id = this.nextHold++;
    const key = this.lockKey(lock);
    this.holdId[key] = id;
    this.holdBy[key] = v;
    const name = `hold L${lock.index}`;
    const pid = this.pid(this.lockGuest.get(lock) as number);
    this.emit({ ph: 'b', cat: 'lock', name, id, ts: this.m.nowNs, pid, tid: v, args });
  }

  private endHold(
    lock: GuestLock,
    ts: number,
    args?: Record<string, boolean>,
    direct = false,
  ): void {
    const key = this.lockKey(lock);
    const e: TraceEvent = {
      ph: 'e',
      cat: 'lock',
      name: `hold L${lock.index}`,
      id: this.holdId[key],
      ts,
      pid: this.pid(this.lockGuest.get(lock) as number),
      tid: this.holdBy[key],
      args,
    };
    this.holdId[key] = -1;
    this.holdBy[key] = -1;
    if (direct) this.sink.event(e);
    else this.emit(e);
  }

  private meta(name: string, pid: number, tid: number, value: string | number): void {
    const args: Record<string, string | number> =
      typeof value === 'string' ? { name: value } : { sort_index: value };
    this.sink.event({ ph: 'M', name, ts: 0, pid, tid, args });
  }

  private emit(e: TraceEvent): void {
    if (this.stopped) return;
    this.sink.event(e);
    // A full sink ends the window here; `close` writes the ends of what is open (past the limit
    // by a few events at most), so the file stays a well-formed trace.
    if (this.sink.full && !this.stopped) this.close();
  }
}
