import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { lognormalMu, Rng } from '../../../src/sim/rng';

/** Poisson by inversion with the exponential always computed (what the shortcut must equal). */
function plainPoisson(r: Rng, mean: number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let k = 0;
  let prod = r.uniform();
  while (prod > limit && k < 1000) {
    k += 1;
    prod *= r.uniform();
  }
  return k;
}

describe('Rng', () => {
  it('geometric gives the same counts, from the same draws, as the plain formula, whatever the order of means', () => {
    const a = new Rng(3, 'g');
    const b = new Rng(3, 'g');
    const means = [6, 6, 2.5, 6, 1, 0.5, 6, 40, 40, 2.5];
    for (let i = 0; i < 50_000; i++) {
      const m = means[i % means.length];
      const plain = m <= 1 ? 1 : 1 + Math.floor(Math.log(1 - b.uniform()) / Math.log(1 - 1 / m));
      expect(a.geometric(m)).toBe(plain);
    }
    expect(a.uniform()).toBe(b.uniform());
  });

  it('steps the same Alea stream as seedrandom does, for the machine and named streams', () => {
    for (const [seed, name, key] of [
      [1, '', 'pvlockfs:1'],
      [42, 'vcpu3', 'pvlockfs:42:vcpu3'],
      [0, 'noise7', 'pvlockfs:0:noise7'],
      [123456789, 'guest:web', 'pvlockfs:123456789:guest:web'],
    ] as const) {
      const ours = new Rng(seed, name);
      const theirs = seedrandom.alea(key);
      const a = Array.from({ length: 100_000 }, () => ours.uniform());
      const b = Array.from({ length: 100_000 }, () => theirs());
      expect(a).toEqual(b);
    }
  });

  it('poisson gives the same counts, from the same draws, as plain inversion', () => {
    const a = new Rng(7, 'p');
    const b = new Rng(7, 'p');
    const means = [1e-12, 1e-9, 1e-6, 3e-4, 0.03, 0.3, 1, 2.5, 12];
    let nonzero = 0;
    for (let i = 0; i < 200_000; i++) {
      const m = means[i % means.length];
      const k = a.poisson(m);
      expect(k).toBe(plainPoisson(b, m));
      if (k > 0) nonzero += 1;
    }
    // Both streams stayed in step (the same number of draws).
    expect(a.uniform()).toBe(b.uniform());
    expect(nonzero).toBeGreaterThan(10_000);
  });

  it('a lognormal with its mu worked out once is the same draw', () => {
    const a = new Rng(3, 'l');
    const b = new Rng(3, 'l');
    const mu = lognormalMu(1500, 1.18);
    for (let i = 0; i < 10_000; i++)
      expect(a.lognormalMuNs(mu, 1.18)).toBe(b.lognormalNs(1500, 1.18));
  });
});
