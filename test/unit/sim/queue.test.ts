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

  it('rejects fractional or negative times', () => {
    const q = new EventQueue();
    expect(() => q.push(1.5, 0, 0, 0)).toThrow();
    expect(() => q.push(-1, 0, 0, 0)).toThrow();
  });
});
