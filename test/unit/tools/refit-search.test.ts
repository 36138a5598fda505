import { describe, expect, it } from 'vitest';
import { BASE_RANGES, candidate, SOURCE_RANGES } from '../../../src/tools/refit-search';
import { defaultConfig } from '../../../src/sim/config';
import { validateConfig } from '../../../src/sim/config-check';
import { Rng } from '../../../src/sim/rng';

describe('the refit search', () => {
  it('draws every parameter inside its source range, a valid configuration each time, the same for a seed', () => {
    for (const withBase of [false, true]) {
      const rng = new Rng(1, 'refit');
      const again = new Rng(1, 'refit');
      const ranges = withBase ? { ...SOURCE_RANGES, ...BASE_RANGES } : SOURCE_RANGES;
      for (let i = 0; i < 200; i++) {
        const c = candidate(rng, withBase);
        expect(candidate(again, withBase)).toEqual(c);
        for (const [k, [lo, hi, kind]] of Object.entries(ranges)) {
          const v = (c as Record<string, number>)[k];
          expect(v, k).toBeGreaterThanOrEqual(lo);
          expect(v, k).toBeLessThanOrEqual(hi);
          if (kind === 'int') expect(Number.isInteger(v), k).toBe(true);
        }
        if (!withBase) for (const k of Object.keys(BASE_RANGES)) expect(c).not.toHaveProperty(k);
        expect(validateConfig({ ...defaultConfig(), ...c })).toEqual([]);
      }
    }
  });
});
