import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../../src/sim/queue';

describe('EventQueue', () => {
  it('pops by time, then by insertion order, and grows past its initial size', () => {
    const q = new EventQueue();
    const n = 1000;
    for (let i = 0; i < n; i++) q.push((i * 7919) % 97, 0, i, 0);
    const out = { timeNs: 0, kind: 0, target: 0, version: 0 };
    let lastT = -1;
    let lastTarget = -1;
    let count = 0;
    while (q.pop(out)) {
      if (out.timeNs === lastT) expect(out.target).toBeGreaterThan(lastTarget);
      else expect(out.timeNs).toBeGreaterThan(lastT);
      lastT = out.timeNs;
      lastTarget = out.target;
      count += 1;
    }
    expect(count).toBe(n);
    expect(q.peekTime()).toBe(Infinity);
  });

  it('interleaved pushes and pops come out in (time, insertion) order, the front slot and a popped root included', () => {
    // A reference: every pending event in an array, the least (time, seq) taken each time.
    const q = new EventQueue();
    const ref: { t: number; seq: number }[] = [];
    const out = { timeNs: 0, kind: 0, target: 0, version: 0 };
    let seq = 0;
    let now = 0;
    let x = 12345;
    const rand = (n: number): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x % n;
    };
    for (let step = 0; step < 20_000; step++) {
      if (ref.length === 0 || rand(3) > 0) {
        // Often earlier than everything queued (the front slot), often tied with it.
        const t = now + rand(4) * rand(50);
        q.push(t, 1, seq, seq);
        ref.push({ t, seq });
        seq += 1;
        expect(q.size).toBe(ref.length);
        continue;
      }
      let best = 0;
      for (let i = 1; i < ref.length; i++)
        if (ref[i].t < ref[best].t || (ref[i].t === ref[best].t && ref[i].seq < ref[best].seq))
          best = i;
      // Half the pops come without a look first, so a pop may follow a pop (the root left free
      // by the first is filled by the heap's last event) or a push may fill the free root.
      if (rand(2) === 0) expect(q.peekTime()).toBe(ref[best].t);
      expect(q.pop(out)).toBe(true);
      expect([out.timeNs, out.target, out.version]).toEqual([
        ref[best].t,
        ref[best].seq,
        ref[best].seq,
      ]);
      now = out.timeNs;
      ref.splice(best, 1);
      expect(q.size).toBe(ref.length);
    }
    // The rest drains in order too.
    ref.sort((a, b) => a.t - b.t || a.seq - b.seq);
    for (const e of ref) {
      expect(q.pop(out)).toBe(true);
      expect([out.timeNs, out.target]).toEqual([e.t, e.seq]);
    }
    expect(q.pop(out)).toBe(false);
    expect(q.size).toBe(0);
  });

  it('rejects fractional or negative times', () => {
    const q = new EventQueue();
    expect(() => q.push(1.5, 0, 0, 0)).toThrow();
    expect(() => q.push(-1, 0, 0, 0)).toThrow();
  });
});
