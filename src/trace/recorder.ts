import type { Machine } from '../sim/machine';
import type { Cpu, Task } from '../sim/task';
import type { Leave, Mark, SimTracer } from '../sim/trace';
import type { GuestLock, Vcpu } from '../sim/vcpu';
import { GUEST_PID, HOST_PID, TaskShown, TimelineEvent, TraceSink, VcpuShown } from './event';
import { guestNames, leftFor, sameShown, taskShown, vcpuShown } from './shown';
import { MARK_NAMES, MarkCounts } from './words';

export { guestNames } from './shown';

/** Locks whose waiter counts are drawn as counters: the most popular of the Zipf population. */
export const HOT_LOCKS = 4;

/**
 * Turns what the simulation reports into timeline events for one window: a track per pCPU (the
 * task running, and why it left), a track per vCPU (its state; its lock holds as async spans),
 * instants for the moments that explain lock-holder preemption, and counters. `open` starts the
 * window where the machine stands (every track's state at that instant), `close` ends it,
 * closing what is open; a sink that fills up ends it early.
 */
export class Recorder implements SimTracer {
  /** Per pCPU: the task whose span is open, or null. */
  private readonly cpuSpan: (TaskShown | null)[];
  /** Per vCPU (every guest's in one numbering): the state whose span is open, or null. */
  private readonly vcpuSpan: (VcpuShown | null)[] = [];
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
    this.vcpuSpan = new Array<VcpuShown | null>(vcpus).fill(null);
    this.holdId = new Int32Array(locks).fill(-1);
    this.holdBy = new Int32Array(locks).fill(-1);
    this.lastQueued = new Int32Array(m.host.cpus.length).fill(-1);
    this.hot = Math.min(HOT_LOCKS, m.guest.space.shared);
    this.lastWaiters = new Int32Array(this.hot * m.guests.length).fill(-1);
    this.names = guestNames(m);
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
      for (const l of guest.locks) if (l.holder >= 0) this.beginHold(l, l.holder, false, 'before');
      for (let i = 0; i < this.hot; i++) this.waiters(guest.locks[i]);
    }
  }

  /** Ends the window now: closes every open span at the current instant. */
  close(): void {
    if (this.stopped) return;
    const ts = this.m.nowNs;
    this.m.guests.forEach((guest, g) => {
      for (const l of guest.locks)
        if (this.holdId[this.lockBase[g] + l.index] >= 0) this.endHold(l, ts, 'after', true);
    });
    this.cpuSpan.forEach((task, cpu) => {
      if (task !== null) this.sink.event({ kind: 'cpu-end', ts, cpu, task });
    });
    this.m.guests.forEach((guest, g) => {
      for (const v of guest.vcpus) {
        const state = this.vcpuSpan[this.vcpuBase[g] + v.index];
        if (state !== null)
          this.sink.event({ kind: 'vcpu-end', ts, guest: g, vcpu: v.index, state });
      }
    });
    this.stopped = true;
    this.endNs = ts;
  }

  /** A knob was written (`zero_stats` applied, `timeout` changed …): a global instant. */
  knob(file: string, value: bigint | null): void {
    if (this.stopped) return;
    this.emit({ kind: 'knob', ts: this.m.nowNs, file, value });
  }

  switched(cpu: Cpu, prev: Task | null, next: Task | null, why: Leave): void {
    if (this.stopped) return;
    const ts = this.m.nowNs;
    const open = this.cpuSpan[cpu.id];
    if (prev !== null && open !== null) {
      this.cpuSpan[cpu.id] = null;
      this.emit({ kind: 'cpu-end', ts, cpu: cpu.id, task: open, left: leftFor(prev, why, this.m) });
    }
    if (next !== null) this.beginCpu(cpu, next);
  }

  queued(cpu: Cpu): void {
    const n = cpu.nrRunning;
    if (this.stopped || this.lastQueued[cpu.id] === n) return;
    this.lastQueued[cpu.id] = n;
    this.emit({ kind: 'runnable', ts: this.m.nowNs, cpu: cpu.id, tasks: n });
  }

  vcpu(v: Vcpu): void {
    if (this.stopped) return;
    const state = vcpuShown(v);
    const g = v.task.owner;
    const key = this.vcpuBase[g] + v.index;
    const open = this.vcpuSpan[key];
    if (sameShown(state, open)) return;
    const ts = this.m.nowNs;
    this.vcpuSpan[key] = null;
    if (open !== null) this.emit({ kind: 'vcpu-end', ts, guest: g, vcpu: v.index, state: open });
    if (state === null || this.stopped) return;
    this.vcpuSpan[key] = state;
    this.emit({ kind: 'vcpu-begin', ts, guest: g, vcpu: v.index, state });
  }

  /** A lock's place in the one numbering of every guest's locks. */
  private lockKey(lock: GuestLock): number {
    return this.lockBase[this.lockGuest.get(lock) as number] + lock.index;
  }

  held(lock: GuestLock, v: number, granted: boolean): void {
    if (this.stopped) return;
    if (this.holdId[this.lockKey(lock)] >= 0) this.endHold(lock, this.m.nowNs);
    if (this.stopped) return;
    this.beginHold(lock, v, granted);
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
    this.emit({ kind: 'waiters', ts: this.m.nowNs, guest: g, lock: i, vcpus: lock.waiting });
  }

  mark(m: Mark, w: Vcpu, other: number): void {
    if (this.stopped) return;
    this.marks[m] += 1;
    const ts = this.m.nowNs;
    this.emit({
      kind: 'mark',
      ts,
      mark: m,
      guest: w.task.owner,
      vcpu: w.index,
      lock: w.lock,
      to: other,
    });
  }

  private beginCpu(c: Cpu, t: Task): void {
    if (this.stopped) return;
    const task = taskShown(t);
    this.cpuSpan[c.id] = task;
    this.emit({ kind: 'cpu-begin', ts: this.m.nowNs, cpu: c.id, task });
  }

  private beginHold(lock: GuestLock, v: number, granted: boolean, when?: 'before'): void {
    if (this.stopped) return;
    const id = this.nextHold++;
    const key = this.lockKey(lock);
    this.holdId[key] = id;
    this.holdBy[key] = v;
    const guest = this.lockGuest.get(lock) as number;
    const e: TimelineEvent = {
      kind: 'hold-begin',
      ts: this.m.nowNs,
      guest,
      lock: lock.index,
      vcpu: v,
      id,
    };
    if (granted) e.granted = true;
    if (when !== undefined) e.when = when;
    this.emit(e);
  }

  private endHold(lock: GuestLock, ts: number, when?: 'after', direct = false): void {
    const key = this.lockKey(lock);
    const guest = this.lockGuest.get(lock) as number;
    const e: TimelineEvent = {
      kind: 'hold-end',
      ts,
      guest,
      lock: lock.index,
      vcpu: this.holdBy[key],
      id: this.holdId[key],
    };
    if (when !== undefined) e.when = when;
    this.holdId[key] = -1;
    this.holdBy[key] = -1;
    if (direct) this.sink.event(e);
    else this.emit(e);
  }

  private meta(
    name: 'process_name' | 'process_sort_index' | 'thread_name' | 'thread_sort_index',
    pid: number,
    tid: number,
    value: string | number,
  ): void {
    this.sink.event({ kind: 'meta', name, pid, tid, value });
  }

  private emit(e: TimelineEvent): void {
    if (this.stopped) return;
    this.sink.event(e);
    // A full sink ends the window here; `close` writes the ends of what is open (past the limit
    // by a few events at most), so the file stays a well-formed trace.
    if (this.sink.full && !this.stopped) this.close();
  }
}
