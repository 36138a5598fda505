import { describe, expect, it } from 'vitest';
import { Histo, histoBucket, PvStats, U64 } from '../../../src/sim/stats';

describe('histoBucket (ilog2 into an unsigned index)', () => {
  it.each([
    [1, 0],
    [2, 1],
    [3, 1],
    [1023, 9],
    [1024, 10],
    [2 ** 29, 29],
    [2 ** 30 - 1, 29],
    [2 ** 30, 30],
    [2 ** 32 - 1, 30],
    [0, 30],
  ])('delta %d → bucket %d', (delta, bucket) => {
    expect(histoBucket(delta)).toBe(bucket);
  });
});

describe('PvStats', () => {
  it('truncates deltas to u32 before adding and bucketing', () => {
    const s = new PvStats();
    s.addSample(Histo.Spinning, 2 ** 32 + 5);
    expect(s.getU64(U64.TimeSpinning)).toBe(5n);
    expect(s.histo[Histo.Spinning][2]).toBe(1);
    s.addSample(Histo.Spinning, 2 ** 32);
    expect(s.histo[Histo.Spinning][30]).toBe(1);
  });

  it('resets lazily: zero_stats stays set until the next update, timeout survives', () => {
    const s = new PvStats();
    s.addTaken();
    s.addTakenSlow();
    s.addSample(Histo.Blocked, 1000);
    s.timeout[0] = 7;
    s.zeroStats[0] = 1;
    expect(s.zeroStats[0]).toBe(1);
    expect(s.getU64(U64.Taken)).toBe(1n);
    s.addReleased();
    expect(s.zeroStats[0]).toBe(0);
    expect(s.getU64(U64.Taken)).toBe(0n);
    expect(s.getU64(U64.Released)).toBe(1n);
    expect(s.takenSlow[0]).toBe(0);
    expect(s.histo[Histo.Blocked].every((x) => x === 0)).toBe(true);
    expect(s.timeout[0]).toBe(7);
  });

  it('u32 counters wrap like C', () => {
    const s = new PvStats();
    s.takenSlow[0] = 0xffffffff;
    s.addTakenSlow();
    expect(s.takenSlow[0]).toBe(0);
  });

  it('u64 counters stay exact past 2^53 through the BigUint64Array', () => {
    const s = new PvStats();
    for (let i = 0; i < 3000; i++) s.addSample(Histo.Total, 2 ** 32 - 1);
    expect(s.getU64(U64.TimeTotal)).toBe(3000n * (2n ** 32n - 1n));
  });
});
