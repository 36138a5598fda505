import { fail } from './assert';

/**
 * Event queue: a binary min-heap ordered by (time, insertion sequence), stored in parallel typed
 * arrays so pushing and popping allocate nothing, with one slot in front of it for the earliest
 * event when that event arrived after the heap's own earliest (a hold that ends before anything
 * else happens is pushed and popped without touching the heap; the order is the same). Cancelled
 * events are not removed: each carries a version that the handler compares with its target's
 * current one (lazy invalidation).
 */
/**
 * The most events the queue may hold. A machine keeps a few per task (a timer, a wake-up) and one
 * tick per pCPU, plus stale ones until they are popped: tens of thousands at the largest
 * configuration. Far more means events leak, which is a bug: it fails loudly instead of eating
 * the machine's memory.
 */
export const MAX_QUEUED_EVENTS = 1 << 24;

export class EventQueue {
  private time = new Float64Array(256);
  private seq = new Float64Array(256);
  private kind = new Uint8Array(256);
  private target = new Int32Array(256);
  private version = new Float64Array(256);
  private count = 0;
  private nextSeq = 0;
  /** The front slot: an event earlier than every event in the heap, when `front` is set. */
  private front = false;
  private fTime = 0;
  private fSeq = 0;
  private fKind = 0;
  private fTarget = 0;
  private fVersion = 0;

  /** Number of queued events (including stale ones). */
  get size(): number {
    return this.count + (this.front ? 1 : 0);
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    if (this.front) return this.fTime;
    return this.count === 0 ? Infinity : this.time[0];
  }

  /** Adds an event. */
  push(timeNs: number, kind: number, target: number, version: number): void {
    if (!(Number.isInteger(timeNs) && timeNs >= 0))
      fail(`event time must be a whole ns, got ${timeNs}`);
    const s = this.nextSeq++;
    // Later sequence numbers sort after equal times, so "earliest" is a strict time comparison.
    if (this.front) {
      if (timeNs >= this.fTime) {
        this.heapPush(timeNs, s, kind, target, version);
        return;
      }
      this.heapPush(this.fTime, this.fSeq, this.fKind, this.fTarget, this.fVersion);
    } else if (this.count > 0 && timeNs >= this.time[0]) {
      this.heapPush(timeNs, s, kind, target, version);
      return;
    }
    this.front = true;
    this.fTime = timeNs;
    this.fSeq = s;
    this.fKind = kind;
    this.fTarget = target;
    this.fVersion = version;
  }

  private heapPush(timeNs: number, s: number, kind: number, target: number, version: number): void {
    if (this.count === this.time.length) this.grow();
    let i = this.count++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.time[p] < timeNs || (this.time[p] === timeNs && this.seq[p] < s)) break;
      this.move(p, i);
      i = p;
    }
    this.set(i, timeNs, s, kind, target, version);
  }

  /** Removes the earliest event and writes it into `out` (time, kind, target, version). */
  pop(out: PoppedEvent): boolean {
    if (this.front) {
      this.front = false;
      out.timeNs = this.fTime;
      out.kind = this.fKind;
      out.target = this.fTarget;
      out.version = this.fVersion;
      return true;
    }
    if (this.count === 0) return false;
    out.timeNs = this.time[0];
    out.kind = this.kind[0];
    out.target = this.target[0];
    out.version = this.version[0];
    const last = --this.count;
    if (last > 0) this.siftDownFrom(last);
    return true;
  }

  private siftDownFrom(last: number): void {
    const t = this.time[last];
    const s = this.seq[last];
    const k = this.kind[last];
    const g = this.target[last];
    const v = this.version[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.count) break;
      const r = c + 1;
      if (r < this.count && this.less(r, c)) c = r;
      if (t < this.time[c] || (t === this.time[c] && s < this.seq[c])) break;
      this.move(c, i);
      i = c;
    }
    this.set(i, t, s, k, g, v);
  }

  private less(a: number, b: number): boolean {
    return (
      this.time[a] < this.time[b] || (this.time[a] === this.time[b] && this.seq[a] < this.seq[b])
    );
  }

  private move(from: number, to: number): void {
    this.time[to] = this.time[from];
    this.seq[to] = this.seq[from];
    this.kind[to] = this.kind[from];
    this.target[to] = this.target[from];
    this.version[to] = this.version[from];
  }

  private set(i: number, t: number, s: number, k: number, g: number, v: number): void {
    this.time[i] = t;
    this.seq[i] = s;
    this.kind[i] = k;
    this.target[i] = g;
    this.version[i] = v;
  }

  private grow(): void {
    const n = this.time.length * 2;
    if (n > MAX_QUEUED_EVENTS)
      fail(`event queue above ${MAX_QUEUED_EVENTS} events: events are leaking`);
    const grow64 = (a: Float64Array): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.time = grow64(this.time);
    this.seq = grow64(this.seq);
    this.version = grow64(this.version);
    const k = new Uint8Array(n);
    k.set(this.kind);
    this.kind = k;
    const g = new Int32Array(n);
    g.set(this.target);
    this.target = g;
  }
}

/** Reusable holder for a popped event. */
export interface PoppedEvent {
  timeNs: number;
  kind: number;
  target: number;
  version: number;
}
