import { performance } from 'node:perf_hooks';
import { RefusalError, UsageError } from '../app/errors';
import { cellName, PlanDir, writePlan } from '../app/experiment/plan-dir';
import { prepareOutDir } from '../app/experiment/report';
import { rfcOutcome } from '../app/experiment/rfc';
import {
  collapseMeasures,
  collapseRuns,
  long2015Measures,
  long2015Runs,
  rfcMeasures,
  rfcRuns,
} from '../app/experiment/tables';
import { runOne, RunResult, RunSpec } from '../experiment/run';
import { openPinnedDir } from '../os/dir';
import { shownPath } from '../os/shown';
import { logLine, stdout } from '../os/stdio';
import { EXPERIMENT_TABLES, experimentDefaults, ExperimentOptions } from './experiment-options';
import { printCollapse2012, printLong2015, printRfc } from './experiment-print';
import { version } from './version';

/*
 * `experiment --plan DIR` (write the runs as cells), `--plan DIR --cell I` (run cells), and
 * `--collect DIR` (print the table from the cells, as a local run prints it).
 */

/** The array index schedulers give each task, by the variable that carries it. */
export const INDEX_VARIABLES = [
  'SLURM_ARRAY_TASK_ID',
  'JOB_COMPLETION_INDEX',
  'AWS_BATCH_JOB_ARRAY_INDEX',
] as const;

/** The cell index: `--cell`, else the first scheduler variable set; null if none. */
export function cellIndex(o: ExperimentOptions, env = process.env): number | null {
  if (o.cell !== null) return o.cell;
  for (const name of INDEX_VARIABLES) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    if (!/^\d{1,9}$/.test(v))
      throw new RefusalError(`${name}='${shownPath(v)}' is not a cell index (a whole number)`);
    return Number(v);
  }
  return null;
}

/** The options a plan keeps: everything that shapes the runs and the table, nothing of this machine. */
function requestOf(o: ExperimentOptions): Record<string, unknown> {
  const {
    jobs: _j,
    json: _json,
    out: _o,
    plan: _p,
    cell: _c,
    stride: _s,
    collect: _co,
    ...rest
  } = o;
  return rest;
}

/** The runs of the table `o` asks for. */
function runsOf(o: ExperimentOptions): RunSpec[] {
  if (o.table === 'long2015') return long2015Runs(o);
  if (o.table === 'collapse2012') return collapseRuns(o);
  return rfcRuns(o);
}

/**
 * Quotes a word for a POSIX shell when it needs it (for the commands the messages print); a word
 * with control characters is shown escaped instead, so that a message stays one line.
 */
function sh(word: string): string {
  if (/[\x00-\x1f\x7f]/.test(word)) return shownPath(word);
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** `experiment … --plan DIR`: writes the plan, or runs cells of it when a cell index is given. */
export async function planCommand(o: ExperimentOptions, path: string): Promise<number> {
  const index = cellIndex(o);
  if (index !== null) return runCells(path, index, o.stride);
  if (o.stride > 0)
    throw new UsageError(
      "--stride goes with a cell index (--cell I, or a scheduler's array index)",
    );
  if (o.ablation !== null)
    throw new UsageError('--ablation does not go with --plan (plan its two matrices with --param)');
  const cells = runsOf(o);
  const plan = writePlan(path, o.table, requestOf(o), cells, version());
  const n = cells.length;
  const p = sh(path);
  if (o.json) {
    stdout().write(
      `${JSON.stringify({ plan: path, table: o.table, cells: n, version: plan.version, build: plan.build })}\n`,
    );
    return 0;
  }
  stdout().write(
    `pvlockfs: plan ${shownPath(path)}: ${n} cells of --table ${o.table} (pvlockfs ${plan.version}, build ${plan.build})\n` +
      `run one:  pvlockfs experiment --plan ${p} --cell I      (I = 0 … ${n - 1}; or the array index of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX)\n` +
      `Slurm:    sbatch --array=0-${n - 1} --wrap ${sh(`pvlockfs experiment --plan ${p}`)}\n` +
      `collect:  pvlockfs experiment --collect ${p}\n`,
  );
  return 0;
}

/** Runs cell `first` of the plan in `path` (and every `stride`-th after it), each written whole. */
async function runCells(path: string, first: number, stride: number): Promise<number> {
  const pd = PlanDir.open(path, '--plan', version());
  try {
    pd.check(first, '--cell');
    for (let i = first; i < pd.size; i += stride > 0 ? stride : pd.size) {
      const t0 = performance.now();
      const result = runOne(pd.plan.cells[i]);
      pd.writeCell(i, result, Math.round(performance.now() - t0));
    }
  } finally {
    pd.close();
  }
  return 0;
}

/** `3,7,10-12`: the indices as an array-job list. */
export function indexList(xs: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < xs.length;) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j += 1;
    parts.push(j > i ? `${xs[i]}-${xs[j]}` : `${xs[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** `experiment --collect DIR`: the table from the plan's cells, as the local run prints it. */
export async function collectCommand(o: ExperimentOptions, path: string): Promise<number> {
  const pd = PlanDir.open(path, '--collect', version());
  if (!Object.hasOwn(EXPERIMENT_TABLES, pd.plan.table)) {
    pd.close();
    throw new RefusalError(
      `--collect ${shownPath(path)}: this plan is a ${shownPath(pd.plan.table)} search's (collect it with scripts/refit-search --collect DIR)`,
    );
  }
  let results: (RunResult | null)[];
  let missing: number[];
  let wallMs: number;
  const table = pd.plan.table;
  try {
    ({ results, missing, wallMs } = pd.results());
  } finally {
    pd.close();
  }
  const p = sh(path);
  // Past 200 missing cells the loop names their whole range (a cell that ran rewrites the same bytes).
  if (missing.length > 0) {
    const list = indexList(missing);
    logLine(
      `pvlockfs: --collect ${shownPath(path)}: ${missing.length} of ${results.length} cells have no result (${list}); run them with: for i in ${missing.length <= 200 ? missing.join(' ') : `$(seq ${missing[0]} ${missing[missing.length - 1]})`}; do pvlockfs experiment --plan ${p} --cell $i; done   (or: sbatch --array=${list} --wrap ${sh(`pvlockfs experiment --plan ${p}`)}), then collect again`,
    );
    return 1;
  }
  const done = results as RunResult[];
  const req = {
    ...experimentDefaults(),
    ...pd.plan.request,
    jobs: o.jobs,
    json: o.json,
    out: o.out,
  };
  const q = req as ExperimentOptions;
  if (table === 'long2015') {
    printLong2015(q, { ...long2015Measures(done), results: done, wallMs });
    return 0;
  }
  if (table === 'collapse2012') {
    printCollapse2012(q, { ...collapseMeasures(q, done), wallMs });
    return 0;
  }
  // The RFC table's report goes where --out says, else beside the plan.
  const outDir = o.out !== null ? prepareOutDir(o.out) : openPinnedDir(path);
  await printRfc(q, rfcOutcome(q, rfcMeasures(q, done), wallMs), outDir);
  return 0;
}

/** The file a cell's result is in (for messages and tests). */
export { cellName };
