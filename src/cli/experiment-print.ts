import { RFC_TABLE } from '../experiment/rfc-table';
import type { RfcOutcome } from '../app/experiment/rfc';
import { writeRfcReport } from '../app/experiment/rfc';
import type { PinnedDir } from '../os/dir';
import { explainLong2015, formatLong2015, Long2015Column } from '../experiment/long2015';
import type { RunResult } from '../experiment/run';
import { collapseVerdicts, CollapseRow, formatCollapse } from '../experiment/collapse2012';
import { explainUnmet } from '../experiment/compare';
import { formatCells, formatNamed, formatTable, formatTargets } from '../render/tables';
import { logLine, stdout } from '../os/stdio';
import type { ExperimentOptions } from './experiment-options';

/*
 * What `experiment` prints for each table, from its outcome: a local run's, or a collected
 * plan's (`--collect`), so the two print the same bytes.
 */

/** pv-yield's A-1x time in the RFC's table: what the scale factor maps its simulated time to. */
const RFC_A1_PV_S = RFC_TABLE.A[1].pv;

/**
 * Prints the RFC table (or its JSON) from an outcome (a local run's or a collected plan's), then
 * writes the report into `outDir` if there is one (after stdout, so a failed write loses no result).
 */
export async function printRfc(
  o: ExperimentOptions,
  r: RfcOutcome,
  outDir: PinnedDir | null,
): Promise<void> {
  const { cmp, table, named } = r;
  const out = stdout();
  if (o.json) out.write(`${JSON.stringify(r.json)}\n`);
  else {
    const unmet = cmp ? explainUnmet(cmp) : [];
    out.write(cmp ? `${formatTable(cmp)}\n\n${formatTargets(cmp)}\n\n` : '');
    if (unmet.length)
      out.write(`What is not met, and why:\n${unmet.map((l) => `- ${l}`).join('\n')}\n\n`);
    if (named) out.write(`${formatNamed(named)}\n\n`);
    out.write(
      `${formatCells(table)}\n\nscale factor ${r.scale} (simulated s → RFC s: pv-yield's A-1x lasts the RFC's ${RFC_A1_PV_S} s; the columns: pvlockfs experiment --help); wall time ${(r.wallMs / 1000).toFixed(1)} s\n`,
    );
  }
  if (outDir !== null) {
    try {
      await writeRfcReport(o, outDir, r, logLine);
    } finally {
      outDir.close();
    }
  }
}

/** Prints Long's 2015 table (a local run's or a collected plan's). */
export function printLong2015(
  o: ExperimentOptions,
  r: { cols: Long2015Column[]; matches: number; results: RunResult[]; wallMs: number },
): void {
  const { cols, matches, results, wallMs } = r;
  if (o.json) {
    stdout().write(
      `${JSON.stringify({ table: 'long2015', seed: o.seed, reps: o.reps, params: o.params, wall_ms: wallMs, rankings_matching: matches, columns: cols })}\n`,
    );
    return;
  }
  stdout().write(
    `${formatLong2015(cols)}\n\nRankings matching the paper: ${matches}/3.\n${explainLong2015(cols, results)}\nwall time ${(wallMs / 1000).toFixed(1)} s\n`,
  );
}

/** Prints the 2012 collapse table (a local run's or a collected plan's). */
export function printCollapse2012(
  o: ExperimentOptions,
  r: { rows: CollapseRow[]; cCycles: number; wallMs: number },
): void {
  const { rows, cCycles, wallMs } = r;
  if (o.json) {
    stdout().write(
      `${JSON.stringify({ table: 'collapse2012', seed: o.seed, c_cycles: cCycles, wall_ms: wallMs, verdicts: collapseVerdicts(rows), curves: rows })}\n`,
    );
    return;
  }
  stdout().write(`${formatCollapse(rows, cCycles)}\nwall time ${(wallMs / 1000).toFixed(1)} s\n`);
}
