import type { RunResult, RunSpec } from '../../experiment/run';
import { long2015Compare, Long2015Column, long2015Specs } from '../../experiment/long2015';
import {
  C_CYCLES,
  collapseCompare,
  CollapseRow,
  collapseSpecs,
  GHZ,
} from '../../experiment/collapse2012';
import { judgeNamed, NamedResult, namedSpecs } from '../../experiment/named';
import type { Cell, Comparison } from '../../experiment/compare';
import { compareWithRfc, MatrixRequest, scaleSpecs, specs } from './matrix';

/**
 * Every table `experiment` runs, as two halves: the runs it needs (in a fixed order) and what it
 * makes of their results. A local run puts the runs on the worker pool; a plan (`--plan`) writes
 * them as numbered cells that run anywhere, and `--collect` hands their results to the same second
 * half — so a collected table is the local one.
 */

/** What the RFC table needs besides the matrix: the named experiments. */
export interface RfcTableRequest extends MatrixRequest {
  named: boolean;
}

/** The RFC table's measures (the report's and stdout's input). */
export interface RfcMeasures {
  scale: number;
  table: Cell[];
  cmp: Comparison | null;
  named: NamedResult[] | null;
}

/** The RFC matrix, the runs its scale needs, and the named experiments' cells (if asked). */
export function rfcRuns(o: RfcTableRequest): RunSpec[] {
  return [...specs(o), ...scaleSpecs(o), ...(o.named ? namedSpecs(o).specs : [])];
}

/** The RFC table from the results of `rfcRuns(o)`, in its order. */
export function rfcMeasures(o: RfcTableRequest, results: readonly RunResult[]): RfcMeasures {
  const m = specs(o).length;
  const s = scaleSpecs(o).length;
  const { scale, table, cmp } = compareWithRfc(results.slice(0, m), results.slice(m, m + s));
  const named = o.named ? judgeNamed(results.slice(m + s), namedSpecs(o).cellOf, o.capNs) : null;
  return { scale, table, cmp, named };
}

/** Long's 2015 table: its runs (each guest does 32 × the RFC run's work per vCPU). */
export function long2015Runs(o: MatrixRequest): RunSpec[] {
  return long2015Specs({
    seed: o.seed,
    reps: o.reps,
    workPerVcpuNs: o.workNs / 4,
    capNs: o.capNs,
    params: o.params,
  });
}

/** Long's 2015 table from its runs' results. */
export function long2015Measures(results: RunResult[]): {
  cols: Long2015Column[];
  matches: number;
} {
  const cols = long2015Compare(results);
  return { cols, matches: cols.filter((c) => c.rankingMatches).length };
}

/** c of the 2012 table, cycles: the source's middle value, or `--param lineRequestNs`. */
export function collapseCycles(params: { lineRequestNs?: number }): number {
  return params.lineRequestNs === undefined ? C_CYCLES : Math.round(params.lineRequestNs * GHZ);
}

/** The 2012 collapse table's runs. */
export function collapseRuns(o: { seed: number; params: { lineRequestNs?: number } }): RunSpec[] {
  return collapseSpecs({ seed: o.seed, cCycles: collapseCycles(o.params) });
}

/** The 2012 collapse table from its runs' results. */
export function collapseMeasures(
  o: { params: { lineRequestNs?: number } },
  results: readonly RunResult[],
): { rows: CollapseRow[]; cCycles: number } {
  const cCycles = collapseCycles(o.params);
  return { rows: collapseCompare(results, cCycles), cCycles };
}
