import { describe, expect, it } from 'vitest';
import { Cell, compare, explainUnmet, paired, targetChecks } from '../../../src/experiment/compare';
import { RFC_TABLE } from '../../../src/experiment/rfc-table';

const SEEDS = [7, 8, 9];

/** A cell whose three runs (seeds 7, 8, 9) take `times` seconds. */
function cell(
  scenario: string,
  overcommit: number,
  lock: string,
  times: number[],
  extra: Partial<Cell> = {},
): Cell {
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const sd = Math.sqrt(times.reduce((a, x) => a + (x - mean) ** 2, 0) / (times.length - 1));
  return {
    scenario,
    overcommit,
    lock,
    times_s: times,
    seeds: SEEDS.slice(0, times.length),
    mean_s: mean,
    stddev_s: sd,
    did_not_finish: 0,
    cpu_share: 0.5,
    vcpu_share_min: 0.5,
    vcpu_share_max: 0.5,
    spin_share: 0.01,
    holder_preempted_share: 0,
    lock_wait_p99_ns: 100,
    lock_wait_p999_ns: 1000,
    lock_wait_max_ns: 10_000,
    grants_to_preempted_waiters: 3,
    host_preemptions_of_holders: 10,
    convoy_episodes: 1,
    convoy_max_ns: 1000,
    histo_spinning: new Array(31).fill(0),
    histo_blocked: new Array(31).fill(0),
    ...extra,
  };
}

/** The RFC's own table as 24 cells (ticket ±1 s, pv ±0.5 s), with `edit` applied to each time. */
function rfcCells(
  edit: (scenario: string, k: number, lock: string, t: number) => number = (_s, _k, _l, t) => t,
): Cell[] {
  const out: Cell[] = [];
  for (const s of ['A', 'B', 'C'])
    for (const k of [1, 2, 3, 4]) {
      const { base, pv } = RFC_TABLE[s][k];
      out.push(
        cell(
          s,
          k,
          'ticket',
          [base - 1, base, base + 1].map((t) => edit(s, k, 'ticket', t)),
        ),
      );
      out.push(
        cell(
          s,
          k,
          'pv-yield',
          [pv - 0.5, pv, pv + 0.5].map((t) => edit(s, k, 'pv-yield', t)),
        ),
      );
    }
  return out;
}

describe('paired Differences', () => {
  it.each([
    { base: [100, 100, 100], pv: [90, 90, 90], faster: 3, sd: 0 },
    { base: [100, 100, 100], pv: [99, 101, 100], faster: 1, sd: 0.01 },
    { base: [100, 200], pv: [90, 180], faster: 2, sd: 0 },
  ])('base $base vs pv $pv: pv first in $faster, sd $sd', ({ base, pv, faster, sd }) => {
    const p = paired(cell('A', 1, 'ticket', base), cell('A', 1, 'pv-yield', pv));
    expect(p.runs).toBe(base.length);
    expect(p.pvFaster).toBe(faster);
    expect(p.sd).toBeCloseTo(sd, 6);
  });

  it('pairs runs by seed, not by position, and skips seeds one lock did not finish', () => {
    const base = cell('A', 1, 'ticket', [100, 110], { seeds: [8, 9] });
    const pv = cell('A', 1, 'pv-yield', [95, 120, 99], { seeds: [7, 8, 9] });
    // Seed 8: 100 vs 120 (pv slower); seed 9: 110 vs 99 (pv faster).
    expect(paired(base, pv)).toEqual({ runs: 2, pvFaster: 1, sd: expect.any(Number) });
  });
});

describe('targets and what is not met', () => {
  it("the RFC's own table meets every target and needs no explanation", () => {
    const c = compare(rfcCells());
    expect(c).not.toBeNull();
    expect(targetChecks(c!).every((t) => t.met)).toBe(true);
    expect(c!.maeDiffPp).toBeCloseTo(0, 6);
    expect(explainUnmet(c!)).toEqual([]);
  });

  it('a 1x cell where pv-yield is not faster: the cell, its per-seed numbers and the 1x reason', () => {
    // A-1x pv takes as long as the ticket lock; B-1x is untouched.
    const c = compare(
      rfcCells((s, k, lock, t) =>
        s === 'A' && k === 1 && lock === 'pv-yield'
          ? t + RFC_TABLE.A[1].base - RFC_TABLE.A[1].pv + 1
          : t,
      ),
    );
    const lines = explainUnmet(c!);
    expect(targetChecks(c!).find((t) => t.id === 'pv-wins')?.met).toBe(false);
    expect(lines[0]).toMatch(
      /^A-1x: pv-yield .* s vs ticket .* s \(Difference -0\.\d %, per seed ±\d+\.\d %, pv first in 0\/3\); spin share ticket 1\.0 % vs pv 1\.0 %/,
    );
    expect(lines[1]).toMatch(/^Why at 1x: /);
    expect(lines.join('\n')).not.toMatch(/B-1x/);
  });

  it('large residuals and a ticket ratio off by 30 %: the worst cells are named', () => {
    const scale: Record<string, number> = { C4ticket: 1.3, 'B2pv-yield': 0.3, 'A3pv-yield': 0.5 };
    const c = compare(rfcCells((s, k, lock, t) => t * (scale[`${s}${k}${lock}`] ?? 1)));
    expect(c!.maeDiffPp).toBeGreaterThan(8);
    const lines = explainUnmet(c!).join('\n');
    expect(lines).toMatch(
      /Largest residuals: B-2x \+\d+\.\d pp, A-3x \+\d+\.\d pp, C-4x \+\d+\.\d pp/,
    );
    expect(lines).toMatch(/^Why: the model's ticket penalty grows with overcommit/m);
    expect(lines).toMatch(/Largest ticket ratio error: C-4x 5\.35 vs the RFC's 4\.12/);
    expect(lines).toMatch(/Largest pv ratio error: B-2x/);
  });

  it('ticket runs no noisier than pv in most cells: said with the count', () => {
    const quiet = rfcCells().map((x) => (x.lock === 'ticket' ? { ...x, stddev_s: 0 } : x));
    const lines = explainUnmet(compare(quiet)!);
    expect(lines).toEqual([
      expect.stringMatching(/^The ticket runs vary less than the RFC's: 12 cells /),
    ]);
  });
});
