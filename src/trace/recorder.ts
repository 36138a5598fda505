import type { Machine } from '../sim/machine';
import { Cpu, Task, TaskKind, TaskState } from '../sim/task';
import { LEAVE_NAMES, Leave, Mark, SimTracer } from '../sim/trace';
import { Act, GuestLock, isWaiting, Vcpu } from '../sim/vcpu';
import { GUEST_PID, HOST_PID, TraceEvent, TraceSink } from './event';

/** Locks whose waiter counts are drawn as counters: the most popular of the Zipf population. */
export const HOT_LOCKS = 4;

const MARK_NAMES = [
  'holder preempted',
  'granted while preempted',
  'kick',
  'PLE exit',
  'directed yield',
] as const;

/** What a recorder counted in its window (the marks, by name). */
export type MarkCounts = Record<(typeof MARK_NAMES)[number], number>;

/** A task's name on a pCPU track. */
export function taskName(t: Task): string {
  if (t.kind === TaskKind.Vcpu) return `vCPU ${t.index}`;
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
function leftFor(t: Task, why: Leave, vcpus: readonly Vcpu[]): string {
  if (why !== Leave.Sleep || t.kind !== TaskKind.Vcpu) return LEAVE_NAMES[why];
  const v = vcpus[t.index];
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
  private readonly vcpuSpan: (string | null)[];
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
    this.vcpuSpan = m.guest.vcpus.map(() => null);
    const locks = m.guest.locks.length;
    this.holdId = new Int32Array(locks).fill(-1);
    this.holdBy = new Int32Array(locks).fill(-1);
    this.lastQueued = new Int32Array(m.host.cpus.length).fill(-1);
    this.lastWaiters = new Int32Array(Math.min(HOT_LOCKS, m.cfg.locks)).fill(-1);
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
    const { host, guest } = this.m;
    this.meta('process_name', HOST_PID, 0, 'host');
    this.meta('process_sort_index', HOST_PID, 0, 0);
    this.meta('process_name', GUEST_PID, 0, 'guest');
    this.meta('process_sort_index', GUEST_PID, 0, 1);
    for (const c of host.cpus) {
      this.meta('thread_name', HOST_PID, c.id, `pCPU ${c.id} (pkg ${c.pkg})`);
      this.meta('thread_sort_index', HOST_PID, c.id, c.id);
    }
    for (const v of guest.vcpus) {
      this.meta('thread_name', GUEST_PID, v.index, `vCPU ${v.index}`);
      this.meta('thread_sort_index', GUEST_PID, v.index, v.index);
    }
    this.stopped = false;
    for (const c of host.cpus) {
      if (c.curr !== null) this.beginCpu(c, c.curr);
      this.queued(c);
    }
    for (const v of guest.vcpus) this.vcpu(v);
    for (const l of guest.locks) if (l.holder >= 0) this.beginHold(l, l.holder, { before: true });
    for (let i = 0; i < this.lastWaiters.length; i++) this.waiters(guest.locks[i]);
  }

  /** Ends the window now: closes every open span at the current instant. */
  close(): void {
    if (this.stopped) return;
    const ts = this.m.nowNs;
    for (let l = 0; l < this.holdId.length; l++)
      if (this.holdId[l] >= 0) this.endHold(l, ts, { after: true }, true);
    this.cpuSpan.forEach((s, c) => {
      if (s !== null) this.sink.event({ ph: 'E', name: s, ts, pid: HOST_PID, tid: c });
    });
    this.vcpuSpan.forEach((s, v) => {
      if (s !== null) this.sink.event({ ph: 'E', name: s, ts, pid: GUEST_PID, tid: v });
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
      const left = leftFor(prev, why, this.m.guest.vcpus);
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
    const open = this.vcpuSpan[v.index];
    if (state === open) return;
    const ts = this.m.nowNs;
    this.vcpuSpan[v.index] = null;
    if (open !== null) this.emit({ ph: 'E', name: open, ts, pid: GUEST_PID, tid: v.index });
    if (state === null || this.stopped) return;
    this.vcpuSpan[v.index] = state;
    this.emit({ ph: 'B', name: state, ts, pid: GUEST_PID, tid: v.index });
  }

  held(lock: GuestLock, v: number, granted: boolean): void {
    if (this.stopped) return;
    if (this.holdId[lock.index] >= 0) this.endHold(lock.index, this.m.nowNs);
    if (this.stopped) return;
    this.beginHold(lock, v, granted ? { granted_while_preempted: true } : undefined);
  }

  released(lock: GuestLock): void {
    if (this.stopped || this.holdId[lock.index] < 0) return;
    this.endHold(lock.index, this.m.nowNs);
  }

  waiters(lock: GuestLock): void {
    const i = lock.index;
    if (this.stopped || i >= this.lastWaiters.length || this.lastWaiters[i] === lock.waiting)
      return;
    this.lastWaiters[i] = lock.waiting;
    const name = `waiters L${i}`;
    const args = { vCPUs: lock.waiting };
    this.emit({ ph: 'C', name, ts: this.m.nowNs, pid: GUEST_PID, tid: 0, args });
  }

  mark(m: Mark, v: number, other: number): void {
    if (this.stopped) return;
    this.marks[m] += 1;
    const w = this.m.guest.vcpus[v];
    const args: Record<string, number> = {};
    if (w.lock >= 0) args.lock = w.lock;
    if (other >= 0) args.to = other;
    const name = MARK_NAMES[m];
    this.emit({ ph: 'i', s: 't', name, ts: this.m.nowNs, pid: GUEST_PID, tid: v, args });
  }

  private beginCpu(c: Cpu, t: Task): void {
    if (this.stopped) return;
    const name = taskName(t);
    this.cpuSpan[c.id] = name;
    this.emit({ ph: 'B', name, ts: this.m.nowNs, pid: HOST_PID, tid: c.id });
  }

  private beginHold(lock: GuestLock, v: number, args?: Record<string, boolean>): void {
    if (this.stopped) return;
    const id = this.nextHold++;
    this.holdId[lock.index] = id;
    this.holdBy[lock.index] = v;
    const name = `hold L${lock.index}`;
    this.emit({ ph: 'b', cat: 'lock', name, id, ts: this.m.nowNs, pid: GUEST_PID, tid: v, args });
  }

  private endHold(l: number, ts: number, args?: Record<string, boolean>, direct = false): void {
    const name = `hold L${l}`;
    const id = this.holdId[l];
    const e: TraceEvent = {
      ph: 'e',
      cat: 'lock',
      name,
      id,
      ts,
      pid: GUEST_PID,
      tid: this.holdBy[l],
      args,
    };
    this.holdId[l] = -1;
    this.holdBy[l] = -1;
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
