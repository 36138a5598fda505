import { describe, expect, it } from 'vitest';
import { ConvoyTracker, LatencyHisto } from '../../../src/sim/instruments';

describe('LatencyHisto', () => {
  it('buckets are monotonic and every value lies at or below its bucket upper bound', () => {
    let last = -1;
    for (const ns of [
      0,
      1,
      7,
      8,
      9,
      15,
      16,
      100,
      1000,
      4095,
      4096,
      1e6,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      1e12,
    ]) {
      const b = LatencyHisto.bucket(ns);
      expect(b).toBeGreaterThanOrEqual(last);
      expect(LatencyHisto.upper(b)).toBeGreaterThanOrEqual(ns);
      last = b;
    }
  });

  it('quantiles are within one sub-bucket (12.5 %) and the max is exact', () => {
    const h = new LatencyHisto();
    for (let i = 1; i <= 1000; i++) h.add(i * 1000);
    expect(h.quantileNs(0.5)).toBeGreaterThanOrEqual(500_000);
    expect(h.quantileNs(0.5)).toBeLessThanOrEqual(500_000 * 1.125);
    expect(h.quantileNs(0.99)).toBeGreaterThanOrEqual(990_000);
    expect(h.maxNs).toBe(1_000_000);
  });
});

describe('ConvoyTracker', () => {
  it('opens at minWaiters, closes at zero waiters, records lengths', () => {
    const c = new ConvoyTracker(2);
    let since = c.update(-1, 1, 100);
    expect(since).toBe(-1);
    since = c.update(since, 2, 200);
    expect(since).toBe(200);
    since = c.update(since, 1, 300);
    expect(since).toBe(200);
    since = c.update(since, 0, 1200);
    expect(since).toBe(-1);
    expect(c).toMatchObject({ episodes: 1, closed: 1, totalNs: 1000, maxNs: 1000 });
  });
});
