import { performance } from 'node:perf_hooks';
import { Cell, Comparison, explainUnmet, targetChecks } from '../../experiment/compare';
import type { NamedResult } from '../../experiment/named';
import { formatNamed } from '../../render/tables';
import type { PinnedDir } from '../../os/dir';
import type { Progress } from '../progress';
import type { MatrixRequest } from './matrix';
import { runPool } from './pool';
import { RfcMeasures, rfcMeasures, rfcRuns } from './tables';
import { writeReport } from './report';
import { CellName, CellTraceResult, traceCell } from './trace-cells';

/** The RFC experiment as asked: the matrix, the named experiments, the timelines of `--out`. */
export interface RfcRequest extends MatrixRequest {
  named: boolean;
  /** Cells whose first run is recorded as a JSON timeline (each lock), into the report. */
  traceCells: CellName[];
  traceFromNs: number;
  traceForNs: number;
  svgForNs: number;
}

/** What it measured: the cells, the comparison with the RFC (null without A-1x of both locks). */
export interface RfcOutcome {
  scale: number;
  table: Cell[];
  cmp: Comparison | null;
  named: NamedResult[] | null;
  wallMs: number;
  /** `experiment --json`, and the report's results.json. */
  json: Record<string, unknown>;
  /** The report's notes. */
  notes: string;
}

/** Runs the matrix (and the named experiments if asked) on the worker pool. */
export async function runRfc(
  o: RfcRequest,
  progress: (label: string) => Progress,
): Promise<RfcOutcome> {
  const t0 = performance.now();
  const p = progress('experiment');
  const results = await runPool(rfcRuns(o), o.jobs, p.update);
  p.end();
  return rfcOutcome(o, rfcMeasures(o, results), Math.round(performance.now() - t0));
}

/** The outcome of the RFC table from its measures (a local run's, or a collected plan's). */
export function rfcOutcome(o: RfcRequest, m: RfcMeasures, wallMs: number): RfcOutcome {
  const { scale, table, cmp, named } = m;
  const notes = `${named ? `Named experiments (one per effect the model must show):\n\n\`\`\`\n${formatNamed(named)}\n\`\`\`\n\n` : ''}See docs/model.md for the model and its parameters, and docs/calibration.md for how the parameter set was chosen.`;
  return {
    scale,
    table,
    cmp,
    named,
    wallMs,
    json: resultsJson(o, scale, wallMs, table, cmp, named),
    notes,
  };
}

/** `experiment --json`: the run's settings, the RFC comparison's summary, every cell. */
function resultsJson(
  o: RfcRequest,
  scale: number,
  wallMs: number,
  table: Cell[],
  cmp: Comparison | null,
  named: NamedResult[] | null,
): Record<string, unknown> {
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  return {
    seed: o.seed,
    reps: o.reps,
    work: `${o.workNs / 1e9}s`,
    cap: `${o.capNs / 1e9}s`,
    scale,
    params: o.params,
    wall_ms: wallMs,
    summary: cmp
      ? {
          mae_difference_pp: r1(cmp.maeDiffPp),
          pv_wins: cmp.pvWins,
          cells_compared: cmp.rows.length,
          baseline_noisier: cmp.baseNoisier,
          baseline_ratio_max_rel_err: Math.round(cmp.baseRatioMaxRelErr * 1000) / 1000,
          pv_ratio_max_rel_err: Math.round(cmp.pvRatioMaxRelErr * 1000) / 1000,
          targets: targetChecks(cmp).map(({ target, value, met }) => ({ target, value, met })),
          unmet: explainUnmet(cmp),
          differences: cmp.rows.map((r) => ({
            scenario: r.scenario,
            overcommit: r.k,
            difference_pct: Math.round(r.diff * 1000) / 10,
            rfc_pct: Math.round(r.rfcDiff * 1000) / 10,
            residual_pp: r1(r.residualPp),
            paired_sd_pct: Math.round(r.paired.sd * 1000) / 10,
            pv_faster_runs: r.paired.pvFaster,
            paired_runs: r.paired.runs,
          })),
        }
      : null,
    cells: table,
    named,
  };
}

/**
 * The timelines of the report: each traced cell with every lock (JSON and SVG), or without
 * `--trace-cells` an SVG of cell B-2x (or the matrix's first cell) for every lock.
 */
function timelines(o: RfcRequest, dir: PinnedDir): CellTraceResult[] {
  const traced = o.traceCells.length > 0;
  const b2 = o.scenarios.includes('B') && o.overcommits.includes(2);
  const cellsWanted: CellName[] = traced
    ? o.traceCells
    : [
        b2
          ? { scenario: 'B', overcommit: 2 }
          : { scenario: o.scenarios[0], overcommit: o.overcommits[0] },
      ];
  const base = { seed: o.seed, workNs: o.workNs, capNs: o.capNs, params: o.params };
  return cellsWanted.flatMap((cell) =>
    o.locks.map((lock) =>
      traceCell(
        dir,
        {
          cell,
          lock,
          json: traced,
          fromNs: o.traceFromNs,
          forNs: o.traceForNs,
          svgForNs: o.svgForNs,
        },
        base,
      ),
    ),
  );
}

/**
 * Writes the report into `dir`: report.md, results.json, the charts and the timelines. Says
 * (through `log`) which timeline could not be drawn because its run ended before the window.
 */
export async function writeRfcReport(
  o: RfcRequest,
  dir: PinnedDir,
  r: RfcOutcome,
  log: (line: string) => void,
): Promise<void> {
  const ts = timelines(o, dir);
  for (const t of ts)
    if (t.svg === null)
      log(
        `pvlockfs: no timeline of ${t.cell} ${t.lock}: its run ended at simulated ${t.endNs} ns, before --trace-from`,
      );
  await writeReport(dir, r.json, r.table, r.cmp, r.notes, ts);
}
