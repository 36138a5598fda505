import { describe, expect, it } from 'vitest';
import {
  judgeNamed,
  NAMED_CELLS,
  NAMED_EXPERIMENTS,
  namedSpecs,
} from '../../../src/experiment/named';
import type { RunResult } from '../../../src/experiment/run';

/** Runs whose completion time is `time(cell)` seconds, every other instrument 0. */
function fakeResults(
  time: (c: (typeof NAMED_CELLS)[number]) => number,
  reps = 2,
): { results: RunResult[]; cellOf: number[] } {
  const { specs, cellOf } = namedSpecs({ seed: 1, reps, workNs: 1e9, capNs: 100e9, params: {} });
  const results = specs.map((spec, j) => ({
    spec,
    completionNs: time(NAMED_CELLS[cellOf[j]]) * 1e9,
    simNs: 0,
    events: 0,
    cpuShare: 0.5,
    vcpuShareMin: 0.5,
    vcpuShareMax: 0.5,
    lockWaitP99Ns: 0,
    lockWaitP999Ns: 0,
    lockWaitMaxNs: 0,
    grantsToPreempted: 0,
    preemptedHolders: 0,
    convoyEpisodes: 0,
    convoyMaxNs: 0,
    spinShare: 0,
    lhpShare: 0,
    histoSpinning: [],
    histoBlocked: [],
    acquisitions: 0,
  }));
  return { results, cellOf };
}

describe('the named experiments, as data', () => {
  it('each has a unique name, and every cell a judge asks for is measured', () => {
    expect(new Set(NAMED_EXPERIMENTS.map((e) => e.name)).size).toBe(NAMED_EXPERIMENTS.length);
    const { results, cellOf } = fakeResults(() => 10);
    expect(judgeNamed(results, cellOf, 100e9).map((r) => r.name)).toEqual(
      NAMED_EXPERIMENTS.map((e) => e.name),
    );
  });

  it('verdicts follow the numbers: a ticket lock that collapses with overcommit is shown, one that scales is not', () => {
    const collapse = fakeResults((c) => (c.lock === 'ticket' ? 10 * c.k * c.k : 10 * c.k));
    const scale = fakeResults((c) => 10 * c.k);
    const verdict = (r: ReturnType<typeof fakeResults>) =>
      judgeNamed(r.results, r.cellOf, 100e9).find((x) => x.name === 'ticket-collapse');
    expect(verdict(collapse)).toMatchObject({
      shown: true,
      evidence: 'B T_k/T_1 ticket 4.00/9.00/16.00 vs pv-yield 2.00/3.00/4.00',
    });
    expect(verdict(scale)?.shown).toBe(false);
  });

  it('a run stopped at the cap counts as the cap', () => {
    const { results, cellOf } = fakeResults(() => 10);
    for (const r of results)
      if (r.spec.lock === 'ticket' && r.spec.overcommit === 4) r.completionNs = null;
    const v = judgeNamed(results, cellOf, 100e9).find((x) => x.name === 'ticket-collapse');
    expect(v?.evidence).toBe('B T_k/T_1 ticket 1.00/1.00/10.00 vs pv-yield 1.00/1.00/1.00');
  });
});
