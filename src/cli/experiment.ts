import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { defaultConfig } from '../sim/config';
import { validateConfig } from '../sim/config-check';
import { runConfig } from '../experiment/run';
import { compareWithRfc, specs } from '../app/experiment/matrix';
import { optionLines, parseArgv, shown } from './args';
import { UsageError } from '../app/errors';
import { prepareOutDir, writeReport } from '../app/experiment/report';
import type { PinnedDir } from '../os/dir';
import { runPool } from '../app/experiment/pool';
import { progressReporter } from './progress';
import { stderr } from '../os/stdio';
import { explainUnmet, targetChecks } from '../experiment/compare';
import { formatCells, formatNamed, formatTable, formatTargets } from '../render/tables';
import { namedExperiments } from '../app/experiment/named';
import { EXPERIMENT_OPTIONS, ExperimentOptions } from './experiment-options';
import { CellName, CellTraceResult, traceCell } from '../app/experiment/trace-cells';
import { long2015Command } from './experiment-long2015';
import { ablationCommand } from './experiment-ablation';

export type { ExperimentOptions } from './experiment-options';

/** Help for the experiment command. */
export const EXPERIMENT_HELP = optionLines(EXPERIMENT_OPTIONS, 24);

/** Parses the experiment's arguments. */
export function parseExperiment(argv: readonly string[]): ExperimentOptions {
  const o: ExperimentOptions = {
    reps: 3,
    seed: defaultConfig().seed,
    scenarios: ['A', 'B', 'C'],
    overcommits: [1, 2, 3, 4],
    locks: ['ticket', 'pv-yield'],
    workNs: 20e9,
    capNs: 120e9,
    jobs: cpus().length,
    json: false,
    out: null,
    named: false,
    table: 'rfc',
    ablation: null,
    params: {},
    traceCells: [],
    traceFromNs: 1e9,
    traceForNs: 100e6,
    svgForNs: 20e6,
  };
  parseArgv('experiment', EXPERIMENT_OPTIONS, { name: 'arguments', min: 0, max: 0 }, argv, o);
  if (o.ablation !== null) {
    const other = argv.find((a) => /^--(named|out|trace-cells|table)\b/.test(a));
    if (other !== undefined)
      throw new UsageError(`${other.split('=')[0]} does not go with --ablation`);
  }
  if (o.table === 'long2015') {
    const other = argv.find((a) =>
      /^--(scenarios|overcommit|locks|named|out|trace-cells)\b/.test(a),
    );
    if (other !== undefined)
      throw new UsageError(
        `${other.split('=')[0]} does not go with --table long2015 (its cells are the paper's: 32/48/60 vCPUs × pv-ticket, pv-qspinlock, tas)`,
      );
  }
  if (o.traceCells.length > 0 && o.out === null)
    throw new UsageError('--trace-cells needs --out DIR (the timelines are written there)');
  // Every run the matrix will make must be one the model can run: refuse now, not minutes later.
  for (const spec of specs(o)) {
    const problems = validateConfig(runConfig(spec));
    if (problems.length === 0) continue;
    const p = problems[0];
    const where = `(in cell ${spec.scenario}-${spec.overcommit}x, ${spec.lock})`;
    throw new UsageError(
      `--param ${p.key}: '${shown(String(p.value))}' is not valid (expected ${p.expected}) ${where}`,
    );
  }
  for (const cell of o.traceCells)
    for (const lock of o.locks) {
      const spec = {
        ...cell,
        lock,
        seed: o.seed,
        workNs: o.workNs,
        capNs: o.capNs,
        params: o.params,
      };
      const p = validateConfig(runConfig(spec))[0];
      if (p)
        throw new UsageError(
          `--param ${p.key}: '${shown(String(p.value))}' is not valid (expected ${p.expected}) (in traced cell ${cell.scenario}-${cell.overcommit}x, ${lock})`,
        );
    }
  return o;
}

/**
 * The timelines of `--out`: each `--trace-cells` cell with every lock (JSON and SVG), or without
 * it an SVG of cell B-2x (or the matrix's first cell) for every lock.
 */
function timelines(o: ExperimentOptions, dir: PinnedDir): CellTraceResult[] {
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
  const out = cellsWanted.flatMap((cell) =>
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
  for (const t of out)
    if (t.svg === null)
      process.stderr.write(
        `pvlockfs: no timeline of ${t.cell} ${t.lock}: its run ended at simulated ${t.endNs} ns, before --trace-from\n`,
      );
  return out;
}

/** `pvlockfs experiment`: runs the matrix and prints the RFC-format table (or JSON). */
export async function experimentCommand(o: ExperimentOptions): Promise<number> {
  if (o.table === 'long2015') return long2015Command(o);
  if (o.ablation !== null) return ablationCommand(o, o.ablation);
  const t0 = performance.now();
  const outDir = o.out === null ? null : prepareOutDir(o.out);
  const all = specs(o);
  const progress = progressReporter('experiment', stderr());
  const results = await runPool(all, o.jobs, progress.update);
  progress.end();
  const { scale, table, cmp } = compareWithRfc(results);
  const named = o.named
    ? await namedExperiments(progressReporter('named experiments', stderr()), {
        seed: o.seed,
        reps: o.reps,
        workNs: o.workNs,
        capNs: o.capNs,
        jobs: o.jobs,
        params: o.params,
      })
    : null;
  const wallMs = Math.round(performance.now() - t0);
  const json: Record<string, unknown> = {
    seed: o.seed,
    reps: o.reps,
    work: `${o.workNs / 1e9}s`,
    cap: `${o.capNs / 1e9}s`,
    scale,
    params: o.params,
    wall_ms: wallMs,
    summary: cmp
      ? {
          mae_difference_pp: Math.round(cmp.maeDiffPp * 10) / 10,
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
            residual_pp: Math.round(r.residualPp * 10) / 10,
            paired_sd_pct: Math.round(r.paired.sd * 1000) / 10,
            pv_faster_runs: r.paired.pvFaster,
            paired_runs: r.paired.runs,
          })),
        }
      : null,
    cells: table,
    named,
  };
  const notes = `${named ? `Named experiments (one per effect the model must show):\n\n\`\`\`\n${formatNamed(named)}\n\`\`\`\n\n` : ''}See docs/model.md for the model and its parameters, and docs/calibration.md for how the parameter set was chosen.`;
  if (o.json) process.stdout.write(`${JSON.stringify(json)}\n`);
  else {
    const unmet = cmp ? explainUnmet(cmp) : [];
    process.stdout.write(cmp ? `${formatTable(cmp)}\n\n${formatTargets(cmp)}\n\n` : '');
    if (unmet.length)
      process.stdout.write(
        `What is not met, and why:\n${unmet.map((l) => `- ${l}`).join('\n')}\n\n`,
      );
    if (named) process.stdout.write(`${formatNamed(named)}\n\n`);
    process.stdout.write(
      `${formatCells(table)}\n\nscale factor ${scale} (simulated s → RFC s); wall time ${(wallMs / 1000).toFixed(1)} s\n`,
    );
  }
  // The report is written after stdout, so a failed write loses no result.
  if (outDir !== null) {
    try {
      await writeReport(outDir, json, table, cmp, notes, timelines(o, outDir));
    } finally {
      outDir.close();
    }
  }
  return 0;
}
