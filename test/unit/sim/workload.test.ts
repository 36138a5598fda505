import { describe, expect, it } from 'vitest';
import { ZipfTable } from '../../../src/sim/workload';

/** The first index whose cumulative share exceeds u, by bisection (what the guide table replaces). */
function bisect(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

describe('ZipfTable', () => {
  it('picks exactly what bisection picks, at random points and at every table boundary', () => {
    for (const [n, s] of [
      [1, 0.5],
      [7, 0],
      [1000, 0.5],
      [1000, 1.2],
      [4096, 0.9],
    ] as const) {
      const z = new ZipfTable(n, s);
      // Uniform draws are in [0, 1).
      const us: number[] = [0, 1 - 2 ** -53];
      for (let i = 0; i < 20_000; i++) us.push(((i * 2654435761) % 2 ** 32) / 2 ** 32);
      for (const c of z.cdf)
        us.push(c, Math.max(0, c - 2 ** -52), Math.min(1 - 2 ** -53, c + 2 ** -52));
      for (let j = 0; j < n; j++) us.push(j / n);
      for (const u of us.filter((x) => x < 1))
        expect(z.pick(u), `n=${n} s=${s} u=${u}`).toBe(bisect(z.cdf, u));
    }
  });
});
