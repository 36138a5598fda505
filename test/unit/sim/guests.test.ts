import { describe, expect, it } from 'vitest';
import { defaultConfig, SimConfig } from '../../../src/sim/config';
import { entitlements, guestCpuNs, guestEntitlements } from '../../../src/sim/fairness';
import { Machine } from '../../../src/sim/machine';
import { summarize } from '../../../src/sim/report';

const host = (over: Partial<SimConfig> = {}): SimConfig => ({
  ...defaultConfig(),
  hogs: 0,
  ...over,
});
const busy = (over: Partial<SimConfig>): SimConfig =>
  host({ lock: 'ticket', idleProbability: 0, ...over });

describe('entitlements: weighted max-min shares of the host', () => {
  it('splits by weight, caps a group at its tasks and gives the rest to the others', () => {
    expect(
      entitlements(4, [
        { shares: 1024, threads: 4 },
        { shares: 1024, threads: 4 },
      ]),
    ).toEqual([2, 2]);
    const w = entitlements(3, [
      { shares: 2048, threads: 4 },
      { shares: 1024, threads: 4 },
    ]);
    expect(w[0]).toBeCloseTo(2, 9);
    expect(w[1]).toBeCloseTo(1, 9);
    expect(
      entitlements(4, [
        { shares: 4096, threads: 1 },
        { shares: 1024, threads: 8 },
      ]),
    ).toEqual([1, 3]);
    expect(
      entitlements(4, [
        { shares: 1024, threads: 1 },
        { shares: 1024, threads: 0 },
      ]),
    ).toEqual([1, 0]);
  });
});

describe('several guests: CFS group scheduling', () => {
  it('CPU-bound guests get CPU in proportion to their weights', () => {
    const m = new Machine(host({ pcpus: 2 }), [
      { name: 'heavy', cfg: busy({ seed: 1, shares: 2048 }) },
      { name: 'light', cfg: busy({ seed: 2, shares: 1024 }) },
    ]);
    m.runUntil(5e9);
    const [a, b] = guestCpuNs(m).map((ns) => ns / 5e9);
    expect(a + b).toBeGreaterThan(1.9); // the host is kept busy
    expect(a / b).toBeGreaterThan(1.7);
    expect(a / b).toBeLessThan(2.3);
    expect(guestEntitlements(m).map((x) => Math.round(x * 1000) / 1000)).toEqual([1.333, 0.667]);
  });

  it('equal weights: equal CPU; the hogs, a group of their own, get their share too', () => {
    const m = new Machine(host({ pcpus: 4, hogs: 4 }), [
      { name: 'a', cfg: busy({ seed: 1, vcpus: 4 }) },
      { name: 'b', cfg: busy({ seed: 2, vcpus: 4 }) },
    ]);
    m.runUntil(5e9);
    const [a, b] = guestCpuNs(m).map((ns) => ns / 5e9);
    expect(Math.abs(a - b)).toBeLessThan(0.15);
    expect(a).toBeGreaterThan(1.1); // entitled to 4/3 each
    expect(a).toBeLessThan(1.55);
  });

  it('each guest keeps its own statistics, knobs and lock; the run is deterministic', () => {
    const build = (): Machine =>
      new Machine(host(), [
        { name: 'a', cfg: host({ seed: 5, lock: 'pv-yield' }) },
        { name: 'b', cfg: host({ seed: 6, lock: 'pv-qspinlock', vcpus: 2 }) },
      ]);
    const m1 = build();
    m1.guests[0].stats.timeout[0] = 1;
    m1.runUntil(1e9);
    const m2 = build();
    m2.guests[0].stats.timeout[0] = 1;
    m2.runUntil(1e9);
    const fp = (m: Machine): string => JSON.stringify(m.guests.map((g) => summarize(m, g)));
    expect(fp(m1)).toBe(fp(m2));
    expect(m1.guests[1].stats.timeout[0]).toBe(1024);
    expect(m1.guests[0].stats.takenSlow[0]).toBeGreaterThan(0);
    expect(m1.guests[1].qstats).not.toBe(m1.guests[0].qstats);
    expect(summarize(m1, m1.guests[1]).vcpus).toHaveLength(2);
  });
});
