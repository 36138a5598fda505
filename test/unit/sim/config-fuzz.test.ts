import { describe, expect, it } from 'vitest';
import { defaultConfig, LOCKS, PINNINGS, PLES, SimConfig } from '../../../src/sim/config';
import { INT_RANGES, REAL_RANGES, validateConfig } from '../../../src/sim/config-check';
import { GuestSetup, Machine } from '../../../src/sim/machine';
import { MECHANISM_KEYS } from '../../../src/sim/mechanisms';
import { Rng } from '../../../src/sim/rng';

/** A value in [lo, hi]: often an end of the range, else log-uniform (wide ranges span decades). */
function pick(r: Rng, lo: number, hi: number, whole: boolean): number {
  const u = r.uniform();
  if (u < 0.15) return lo;
  if (u < 0.3) return hi;
  const v = lo > 0 && hi / lo > 100 ? lo * (hi / lo) ** r.uniform() : lo + (hi - lo) * r.uniform();
  return whole ? Math.min(hi, Math.max(lo, Math.round(v))) : v;
}

/** A random configuration: a lock, a host, and a few parameters anywhere in their ranges. */
function randomConfig(seed: number): SimConfig {
  const r = new Rng(seed, 'config-fuzz');
  const c: SimConfig = {
    ...defaultConfig(),
    seed,
    lock: LOCKS[r.int(0, LOCKS.length - 1)],
    pinning: PINNINGS[r.int(0, 2)],
    ple: PLES[r.int(0, 2)],
  };
  c.vcpus = r.int(1, 48);
  c.pcpus = r.int(1, 24);
  c.hogs = r.int(0, 40);
  const ints = Object.entries(INT_RANGES).filter(
    ([k]) => !['seed', 'vcpus', 'pcpus', 'hogs'].includes(k),
  );
  const reals = Object.entries(REAL_RANGES);
  const rec = c as unknown as Record<string, unknown>;
  for (let i = r.int(1, 5); i > 0; i--) {
    const [key, [lo, hi]] = ints[r.int(0, ints.length - 1)];
    rec[key] = pick(r, lo, Math.min(hi, 1e12), true);
  }
  for (let i = r.int(0, 3); i > 0; i--) {
    const [key, [lo, hi]] = reals[r.int(0, reals.length - 1)];
    rec[key] = pick(r, lo, hi, false);
  }
  for (const flag of [
    'bursty',
    'hostNoise',
    'stalls',
    'compatYield',
    'grantOnlyToRunning',
    'loopJobs',
    'yieldReclaim',
  ] as const)
    if (r.uniform() < 0.2) c[flag] = !c[flag];
  // The 2010 host's mechanisms (every one the registry has) and the RFC's solutions (b), (c).
  for (const k of MECHANISM_KEYS) if (r.uniform() < 0.25) c[k] = true;
  if (r.uniform() < 0.2) c.preemptHints = true;
  if (r.uniform() < 0.2) c.runState = true;
  return c;
}

/** With one configuration in four, two or three guests on its host (each a lock and a size of its own). */
function randomGuests(seed: number, c: SimConfig): GuestSetup[] | undefined {
  const r = new Rng(seed, 'config-fuzz-guests');
  if (r.uniform() >= 0.25) return undefined;
  return Array.from({ length: r.int(2, 3) }, (_, i) => ({
    name: `g${i}`,
    cfg: {
      ...c,
      seed: c.seed + i,
      lock: LOCKS[r.int(0, LOCKS.length - 1)],
      vcpus: r.int(1, 8),
      shares: r.int(2, 4096),
    },
  }));
}

describe('every configuration the validation accepts runs (seeded fuzz)', () => {
  // 600 random configurations; each runs 20 simulated ms or 200,000 events, whichever is first.
  // A failure names the seed: `randomConfig(seed)` rebuilds the configuration.
  const seeds = Array.from({ length: 600 }, (_, i) => 1000 + i);
  it('no accepted configuration throws', () => {
    let ran = 0;
    const covered = { mechanisms: 0, solutions: 0, guests: 0 };
    const failures: string[] = [];
    for (const seed of seeds) {
      const c = randomConfig(seed);
      const guests = randomGuests(seed, c);
      if (validateConfig(c).length > 0) continue;
      if (guests?.some((g) => validateConfig(g.cfg).length > 0)) continue;
      try {
        new Machine(c, guests).runUntil(20_000_000, 200_000);
        ran += 1;
        if (MECHANISM_KEYS.some((k) => c[k])) covered.mechanisms += 1;
        if (c.preemptHints || c.runState) covered.solutions += 1;
        if (guests !== undefined) covered.guests += 1;
      } catch (e) {
        failures.push(`seed ${seed}: ${(e as Error).message} — ${JSON.stringify(c)}`);
      }
    }
    expect(failures).toEqual([]);
    // The fuzz is only worth something if most configurations were accepted and run, and the
    // newer parts of the model — mechanisms, solutions, several guests — among them.
    expect(ran).toBeGreaterThan(seeds.length / 2);
    expect(covered.mechanisms).toBeGreaterThan(50);
    expect(covered.solutions).toBeGreaterThan(30);
    expect(covered.guests).toBeGreaterThan(30);
  });

  it('the reported crash (pv-qspinlock, 32 vCPUs, 2 pCPUs, pvHashEntries=4) is refused by the validation', () => {
    const c = {
      ...defaultConfig(),
      lock: 'pv-qspinlock' as const,
      vcpus: 32,
      pcpus: 2,
      pvHashEntries: 4,
    };
    expect(validateConfig(c)).toEqual([
      {
        key: 'pvHashEntries',
        value: 4,
        expected: 'at least the vCPU count (32) with pv-qspinlock',
      },
    ]);
    expect(() =>
      new Machine({ ...c, pvHashEntries: 32 }).runUntil(200_000_000, 2_000_000),
    ).not.toThrow();
  });
});
