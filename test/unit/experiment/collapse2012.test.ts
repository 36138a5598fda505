import { describe, expect, it } from 'vitest';
import {
  COLLAPSE_CURVES,
  collapseParams,
  markovSpeedup,
  markovStates,
  peakOf,
} from '../../../src/experiment/collapse2012';

describe('the 2012 collapse Markov model, computed exactly', () => {
  it('one core: P_0 = a/(a + s + c/2), P_1 = (s + c/2)/(a + s + c/2)', () => {
    // n = 1, a = 100, s = 10, c = 4: P_1/P_0 = (1/a)(s + c/2) = 12/100.
    const [p0, p1] = markovStates(1, 100, 10, 4);
    expect(p0).toBeCloseTo(100 / 112, 12);
    expect(p1).toBeCloseTo(12 / 112, 12);
    // Speedup over a lone core (1/(a + s)): throughput P_0/a times (a + s).
    expect(markovSpeedup(1, 100, 10, 4)).toBeCloseTo((100 / 112 / 100) * 110, 12);
  });

  it('two cores, by hand: P_1/P_0 = 2(s + c/2)/a, P_2/P_1 = (s + c)/a', () => {
    // a = 50, s = 10, c = 4: weights 1, 2·12/50 = 0.48, 0.48·14/50 = 0.1344.
    const w = [1, 0.48, 0.1344];
    const sum = w.reduce((x, y) => x + y, 0);
    const p = markovStates(2, 50, 10, 4);
    for (let k = 0; k < 3; k++) expect(p[k]).toBeCloseTo(w[k] / sum, 12);
    // Cores outside the lock: 2·P_0 + 1·P_1; throughput over a; speedup × (a + s).
    const outside = 2 * (w[0] / sum) + w[1] / sum;
    expect(markovSpeedup(2, 50, 10, 4)).toBeCloseTo((outside / 50) * 60, 12);
  });

  it('three cores, by hand, and no overflow at 48', () => {
    // a = 30, s = 6, c = 2: weights 1, 3·7/30, 3·7/30 · 2·8/30, … · 1·9/30.
    const w1 = (3 * 7) / 30;
    const w2 = (w1 * 2 * 8) / 30;
    const w3 = (w2 * 1 * 9) / 30;
    const sum = 1 + w1 + w2 + w3;
    const p = markovStates(3, 30, 6, 2);
    expect(p).toHaveLength(4);
    [1, w1, w2, w3].forEach((w, k) => expect(p[k]).toBeCloseTo(w / sum, 12));
    const big = markovStates(48, 12_100, 400, 790);
    expect(big.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
    expect(big.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
  });

  it('with c = 0 a queue does not slow its hand-offs: the speedup only grows with the cores', () => {
    const s = Array.from({ length: 48 }, (_, i) => markovSpeedup(i + 1, 12_100, 400, 0));
    for (let i = 1; i < 48; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
    expect(peakOf(s).collapseCores).toBeNull();
  });

  it('peakOf finds the highest speedup and the first core count below ¾ of it', () => {
    const p = peakOf([1, 2, 3, 4, 3.5, 2.9, 2, 1]);
    expect(p).toEqual({ peakCores: 4, peakSpeedup: 4, collapseCores: 6, at48: 1 });
  });

  it("runs the paper's machine: 2.4 GHz cycles to ns, c for every line request, one lock, no noise", () => {
    const p = collapseParams(COLLAPSE_CURVES[0], 9, 790);
    expect(p).toMatchObject({
      vcpus: 9,
      pcpus: 48,
      userNsMean: Math.round(12_100 / 2.4),
      holdNsMean: Math.round(400 / 2.4),
      holdSigma: 0,
      fixedUser: true,
      locks: 1,
      lineRequestNs: 329,
      crossPackageTransferNs: 329,
      stalls: false,
      hostNoise: false,
    });
  });
});
