import { fail } from './assert';

/**
 * Event queue: a binary min-heap ordered by (time, insertion sequence). It allocates nothing
 * while it runs: each event's fields sit in a numbered slot of parallel typed arrays, and the heap
 * itself moves only two numbers per step, the event's time (compared at every step) and its slot
 * number (the sequence is looked up only when two times are equal). Two shortcuts keep the common
 * patterns cheap without changing the order: a slot in front of the heap for an event earlier
 * than all of it (a hold that ends before anything else happens is pushed and popped without
 * touching the heap), and a popped root left free until the next push fills it with one pass down
 * (a popped timer is usually re-armed at once). Cancelled events are not removed: each carries a
 * version that the handler compares with its target's current one (lazy invalidation).
 */
/**
 * The most events the queue may hold. A machine keeps a few per task (a timer, a wake-up) and one
 * tick per pCPU, plus stale ones until they are popped: tens of thousands at the largest
 * configuration. Far more means events leak, which is a bug: it fails loudly instead of eating
 * the machine's memory.
 */
export const MAX_QUEUED_EVENTS = 1 << 24;

const INITIAL = 256;

export class EventQueue {
  /** The heap: each position's event time and slot. */
  private hTime = new Float64Array(INITIAL);
  private hSlot = new Int32Array(INITIAL);
  /** The slots: each event's sequence number, kind, target and version. */
  private seq = new Float64Array(INITIAL);
  private kind = new Uint8Array(INITIAL);
  private target = new Int32Array(INITIAL);
  private version = new Float64Array(INITIAL);
  /** Slots not in use (a stack). */
  private free = new Int32Array(INITIAL);
  private freeCount = INITIAL;
  /** Heap positions in use, the free root included. */
  private count = 0;
  private nextSeq = 0;
  /** The front slot: an event earlier than every event in the heap, when `front` is set. */
  private front = false;
  private fTime = 0;
  private fSeq = 0;
  private fKind = 0;
  private fTarget = 0;
  private fVersion = 0;
  /** The heap's root was popped and not yet refilled (its slot is already free). */
  private hole = false;

  constructor() {
    for (let i = 0; i < INITIAL; i++) this.free[i] = INITIAL - 1 - i;
    this.hTime[0] = Infinity;
  }

  /** Number of queued events (including stale ones). */
  get size(): number {
    return this.count - (this.hole ? 1 : 0) + (this.front ? 1 : 0);
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    if (this.front) return this.fTime;
    if (this.hole) this.closeHole();
    // An empty heap keeps Infinity at its root: the answer is always a number from the array
    // (a branch that returned the constant would make the engine box every time it returns).
    return this.hTime[0];
  }

  /** Adds an event. */
  push(timeNs: number, kind: number, target: number, version: number): void {
    if (!(Number.isInteger(timeNs) && timeNs >= 0)) badTime(timeNs);
    const s = this.nextSeq++;
    if (this.hole) {
      // The root is free (and the front slot empty: it only fills while the root is taken).
      this.hole = false;
      this.siftDown(timeNs, this.fill(s, kind, target, version));
      return;
    }
    // Later sequence numbers sort after equal times, so "earliest" is a strict time comparison.
    if (this.front) {
      if (timeNs >= this.fTime) {
        this.siftUp(timeNs, this.fill(s, kind, target, version));
        return;
      }
      this.siftUp(this.fTime, this.fill(this.fSeq, this.fKind, this.fTarget, this.fVersion));
    } else if (this.count > 0 && timeNs >= this.hTime[0]) {
      this.siftUp(timeNs, this.fill(s, kind, target, version));
      return;
    }
    this.front = true;
    this.fTime = timeNs;
    this.fSeq = s;
    this.fKind = kind;
    this.fTarget = target;
    this.fVersion = version;
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
    if (this.hole) this.closeHole();
    if (this.count === 0) return false;
    const slot = this.hSlot[0];
    out.timeNs = this.hTime[0];
    out.kind = this.kind[slot];
    out.target = this.target[slot];
    out.version = this.version[slot];
    this.free[this.freeCount++] = slot;
    this.hole = true;
    return true;
  }

  /** Takes a free slot for an event's fields; returns its number. */
  private fill(s: number, kind: number, target: number, version: number): number {
    if (this.freeCount === 0) this.grow();
    const slot = this.free[--this.freeCount];
    this.seq[slot] = s;
    this.kind[slot] = kind;
    this.target[slot] = target;
    this.version[slot] = version;
    return slot;
  }

  /** Fills a popped root with the heap's last event. */
  private closeHole(): void {
    this.hole = false;
    const last = --this.count;
    if (last > 0) this.siftDown(this.hTime[last], this.hSlot[last]);
    else this.hTime[0] = Infinity;
  }

  /** Puts an event at the (free) root and moves it down to its place. */
  private siftDown(t: number, slot: number): void {
    const hTime = this.hTime;
    const hSlot = this.hSlot;
    const n = this.count;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      let ct = hTime[c];
      if (r < n) {
        const rt = hTime[r];
        if (rt < ct || (rt === ct && this.seq[hSlot[r]] < this.seq[hSlot[c]])) {
          c = r;
          ct = rt;
        }
      }
      if (t < ct || (t === ct && this.seq[slot] < this.seq[hSlot[c]])) break;
      hTime[i] = ct;
      hSlot[i] = hSlot[c];
      i = c;
    }
    hTime[i] = t;
    hSlot[i] = slot;
  }

  /** Adds an event at a new last position and moves it up to its place. */
  private siftUp(t: number, slot: number): void {
    if (this.count === this.hTime.length) this.grow();
    const hTime = this.hTime;
    const hSlot = this.hSlot;
    const s = this.seq[slot];
    let i = this.count++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = hTime[p];
      if (pt < t || (pt === t && this.seq[hSlot[p]] < s)) break;
      hTime[i] = pt;
      hSlot[i] = hSlot[p];
      i = p;
    }
    hTime[i] = t;
    hSlot[i] = slot;
  }

  /** Doubles the heap and the slots (there are as many slots as heap positions). */
  private grow(): void {
    const old = this.hTime.length;
    const n = old * 2;
    if (n > MAX_QUEUED_EVENTS)
      fail(`event queue above ${MAX_QUEUED_EVENTS} events: events are leaking`);
    const f64 = (a: Float64Array): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.hTime = f64(this.hTime);
    this.hSlot = i32(this.hSlot);
    this.seq = f64(this.seq);
    this.version = f64(this.version);
    this.target = i32(this.target);
    const k = new Uint8Array(n);
    k.set(this.kind);
    this.kind = k;
    // The new slots old … n − 1 join the free ones.
    this.free = i32(this.free);
    for (let i = n - 1; i >= old; i--) this.free[this.freeCount++] = i;
  }
}

/** Reusable holder for a popped event. */
export interface PoppedEvent {
  timeNs: number;
  kind: number;
  target: number;
  version: number;
}

/*
 * The failures of the hot paths build their messages out of line: the code that checks stays
 * small enough for the engine to compile it into its callers.
 */
function badTime(timeNs: number): never {
  fail(`event time must be a whole ns, got ${timeNs}`);
}
