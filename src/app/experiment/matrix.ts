import { Cell, cells, compare, Comparison } from '../../experiment/compare';
import { RFC_TABLE } from '../../experiment/rfc-table';
import type { RunResult, RunSpec } from '../../experiment/run';
import type { LockAlgorithm, Pinning, SimConfig } from '../../sim/config';

/** What a matrix of runs is made of: cells (scenario × overcommit), locks, repetitions. */
export interface MatrixRequest {
  reps: number;
  seed: number;
  scenarios: Pinning[];
  overcommits: number[];
  locks: LockAlgorithm[];
  workNs: number;
  capNs: number;
  /** Worker threads to run it on. */
  jobs: number;
  params: Partial<SimConfig>;
}

/** Every run of the matrix, in a fixed order. */
export function specs(o: MatrixRequest): RunSpec[] {
  const out: RunSpec[] = [];
  for (const scenario of o.scenarios)
    for (const overcommit of o.overcommits)
      for (const lock of o.locks)
        for (let r = 0; r < o.reps; r++)
          out.push({
            scenario,
            overcommit,
            lock,
            seed: o.seed + r,
            workNs: o.workNs,
            capNs: o.capNs,
            params: o.params,
          });
  return out;
}

/**
 * The runs the scale is taken from when the matrix lacks them: pv-yield's A-1x, each repetition
 * (so a subset of the cells prints the same seconds as the whole matrix).
 */
export function scaleSpecs(o: MatrixRequest): RunSpec[] {
  const hasA1pv =
    o.scenarios.includes('A') && o.overcommits.includes(1) && o.locks.includes('pv-yield');
  if (hasA1pv) return [];
  return specs({ ...o, scenarios: ['A'], overcommits: [1], locks: ['pv-yield'] });
}

/**
 * The matrix's results beside the RFC's table: simulated seconds scaled so that pv-yield's A-1x
 * matches the RFC's (from `scaleRuns` when the matrix has no such cell), the cells, and the
 * comparison (null without both locks).
 */
export function compareWithRfc(
  results: RunResult[],
  scaleRuns: RunResult[] = [],
): {
  scale: number;
  table: Cell[];
  cmp: Comparison | null;
} {
  const a1pv = [...results, ...scaleRuns].filter(
    (r) =>
      r.spec.scenario === 'A' &&
      r.spec.overcommit === 1 &&
      r.spec.lock === 'pv-yield' &&
      r.completionNs !== null,
  );
  const simA1 = a1pv.length
    ? a1pv.reduce((a, r) => a + (r.completionNs as number), 0) / a1pv.length / 1e9
    : 0;
  const scale = simA1 > 0 ? Math.round((RFC_TABLE.A[1].pv / simA1) * 1e6) / 1e6 : 1;
  const table = cells(results, scale);
  return { scale, table, cmp: compare(table) };
}
