import type { Mark } from '../sim/trace';
import {
  GUEST_PID,
  HOST_PID,
  LeftShown,
  TaskShown,
  TimelineEvent,
  TraceSink,
  VcpuShown,
} from './event';

/** A pCPU's stint: [startNs, endNs), the task, and why it left (absent where the window ended). */
export interface CpuSpan {
  startNs: number;
  endNs: number;
  task: TaskShown;
  left?: LeftShown;
}

/** A vCPU's state over [startNs, endNs). */
export interface VcpuSpan {
  startNs: number;
  endNs: number;
  state: VcpuShown;
}

/** A lock hold: which vCPU, which lock, whether it was granted to a waiter that was not running. */
export interface Hold {
  startNs: number;
  endNs: number;
  vcpu: number;
  lock: number;
  granted: boolean;
}

/** A moment on a vCPU's track. */
export interface Moment {
  ns: number;
  vcpu: number;
  mark: Mark;
}

/** One guest's rows: its vCPUs' spans, its holds and its moments. */
export interface GuestRows {
  /** The process name: `guest`, or `guest NAME` with several guests. */
  name: string;
  vcpus: VcpuSpan[][];
  holds: Hold[];
  moments: Moment[];
}

/** The most events a timeline keeps in memory; past it, it reports itself full. */
export const TIMELINE_MAX_EVENTS = 400_000;

/**
 * A recorder's events kept in memory as closed spans, holds and moments per track: what the SVG
 * timeline draws. Bounded (TIMELINE_MAX_EVENTS).
 */
export class Timeline implements TraceSink {
  /** Per pCPU: closed spans in time order. */
  readonly cpus: CpuSpan[][] = [];
  /** Per guest, in order. */
  readonly guests: GuestRows[] = [];
  /** Track names of the pCPUs as the metadata gave them. */
  readonly cpuNames: string[] = [];
  count = 0;
  full = false;
  private readonly openCpus = new Map<number, { startNs: number; task: TaskShown }>();
  private readonly openVcpus = new Map<string, { startNs: number; state: VcpuShown }>();
  private readonly openHolds = new Map<number, Hold>();

  event(e: TimelineEvent): void {
    this.count += 1;
    if (this.count >= TIMELINE_MAX_EVENTS) this.full = true;
    switch (e.kind) {
      case 'meta':
        this.meta(e.name, e.pid, e.tid, e.value);
        return;
      case 'cpu-begin':
        this.openCpus.set(e.cpu, { startNs: e.ts, task: e.task });
        return;
      case 'cpu-end': {
        const o = this.openCpus.get(e.cpu);
        if (o === undefined) return;
        this.openCpus.delete(e.cpu);
        const span: CpuSpan = { startNs: o.startNs, endNs: e.ts, task: o.task };
        if (e.left !== undefined) span.left = e.left;
        at(this.cpus, e.cpu).push(span);
        return;
      }
      case 'vcpu-begin':
        this.openVcpus.set(`${e.guest}/${e.vcpu}`, { startNs: e.ts, state: e.state });
        return;
      case 'vcpu-end': {
        const key = `${e.guest}/${e.vcpu}`;
        const o = this.openVcpus.get(key);
        if (o === undefined) return;
        this.openVcpus.delete(key);
        at(this.guest(e.guest).vcpus, e.vcpu).push({
          startNs: o.startNs,
          endNs: e.ts,
          state: o.state,
        });
        return;
      }
      case 'hold-begin':
        this.openHolds.set(e.id, {
          startNs: e.ts,
          endNs: e.ts,
          vcpu: e.vcpu,
          lock: e.lock,
          granted: e.granted === true,
        });
        return;
      case 'hold-end': {
        const h = this.openHolds.get(e.id);
        if (h === undefined) return;
        this.openHolds.delete(e.id);
        h.endNs = e.ts;
        this.guest(e.guest).holds.push(h);
        return;
      }
      case 'mark':
        this.guest(e.guest).moments.push({ ns: e.ts, vcpu: e.vcpu, mark: e.mark });
        return;
      case 'knob':
      case 'runnable':
      case 'waiters':
        return;
    }
  }

  /** Track names and tracks from the metadata (guest g is process GUEST_PID + g). */
  private meta(name: string, pid: number, tid: number, value: string | number): void {
    if (pid === HOST_PID) {
      if (name === 'thread_name') {
        this.cpuNames[tid] = String(value);
        at(this.cpus, tid);
      }
      return;
    }
    const g = this.guest(pid - GUEST_PID);
    if (name === 'process_name') g.name = String(value);
    if (name === 'thread_name') at(g.vcpus, tid);
  }

  private guest(g: number): GuestRows {
    while (this.guests.length <= g)
      this.guests.push({ name: 'guest', vcpus: [], holds: [], moments: [] });
    return this.guests[g];
  }
}

/** The list at `i` of `lists`, made (with any before it) if missing. */
function at<T>(lists: T[][], i: number): T[] {
  while (lists.length <= i) lists.push([]);
  return lists[i];
}
