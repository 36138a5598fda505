import { GUEST_PID, HOST_PID, TraceEvent, TraceSink } from './event';

/** A span on one track: [startNs, endNs), its name, and (pCPU tracks) why its task left. */
export interface Span {
  startNs: number;
  endNs: number;
  name: string;
  left?: string;
}

/** A lock hold: which vCPU, which lock, whether it was granted to a waiter that was not running. */
export interface Hold {
  startNs: number;
  endNs: number;
  vcpu: number;
  lock: string;
  granted: boolean;
}

/** A moment on a vCPU's track. */
export interface Moment {
  ns: number;
  vcpu: number;
  name: string;
}

/** One guest's rows: its vCPUs' spans, its holds and its moments. */
export interface GuestRows {
  /** The process name: `guest`, or `guest NAME` with several guests. */
  name: string;
  vcpus: Span[][];
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
  /** Per pCPU, per vCPU: closed spans in time order. */
  readonly cpus: Span[][] = [];
  /** Per guest process, in pid order. */
  readonly guests: GuestRows[] = [];
  private readonly byPid = new Map<number, GuestRows>();
  private readonly pids: number[] = [];
  /** Track names by pid/tid as the metadata gave them. */
  readonly cpuNames: string[] = [];
  count = 0;
  full = false;
  private readonly openSpans = new Map<string, { startNs: number; name: string }>();
  private readonly openHolds = new Map<number, Hold>();

  event(e: TraceEvent): void {
    this.count += 1;
    if (this.count >= TIMELINE_MAX_EVENTS) this.full = true;
    const key = `${e.pid}/${e.tid}`;
    switch (e.ph) {
      case 'M':
        if (e.name === 'process_name' && e.pid !== HOST_PID)
          this.guest(e.pid).name = String(e.args?.name);
        if (e.name === 'thread_name' && e.pid === HOST_PID)
          this.cpuNames[e.tid] = String(e.args?.name);
        if (e.name === 'thread_name') this.track(e.pid, e.tid);
        return;
      case 'B':
        this.openSpans.set(key, { startNs: e.ts, name: e.name });
        return;
      case 'E': {
        const o = this.openSpans.get(key);
        if (o === undefined) return;
        this.openSpans.delete(key);
        const left = e.args?.left;
        const span: Span = { startNs: o.startNs, endNs: e.ts, name: o.name };
        if (typeof left === 'string') span.left = left;
        this.track(e.pid, e.tid).push(span);
        return;
      }
      case 'b':
        this.openHolds.set(e.id as number, {
          startNs: e.ts,
          endNs: e.ts,
          vcpu: e.tid,
          lock: e.name.replace(/^hold /, ''),
          granted: e.args?.granted_while_preempted === true,
        });
        return;
      case 'e': {
        const h = this.openHolds.get(e.id as number);
        if (h === undefined) return;
        this.openHolds.delete(e.id as number);
        h.endNs = e.ts;
        this.guest(e.pid).holds.push(h);
        return;
      }
      case 'i':
        if (e.pid >= GUEST_PID)
          this.guest(e.pid).moments.push({ ns: e.ts, vcpu: e.tid, name: e.name });
        return;
      default:
        return;
    }
  }

  private guest(pid: number): GuestRows {
    let g = this.byPid.get(pid);
    if (g === undefined) {
      g = { name: 'guest', vcpus: [], holds: [], moments: [] };
      this.byPid.set(pid, g);
      // Kept in pid order (the recorder names the guests in order anyway).
      const at = this.pids.filter((p) => p < pid).length;
      this.pids.splice(at, 0, pid);
      this.guests.splice(at, 0, g);
    }
    return g;
  }

  private track(pid: number, tid: number): Span[] {
    const list = pid === HOST_PID ? this.cpus : this.guest(pid).vcpus;
    while (list.length <= tid) list.push([]);
    return list[tid];
  }
}
