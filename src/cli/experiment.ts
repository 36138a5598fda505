import { validateConfig } from '../sim/config-check';
import { runConfig } from '../experiment/run';
import { specs } from '../app/experiment/matrix';
import { parseArgv, shown } from './args';
import { UsageError } from '../app/errors';
import { prepareOutDir } from '../app/experiment/report';
import { ablationPossible, runAblation } from '../app/experiment/ablation';
import { runLong2015 } from '../app/experiment/long2015';
import { runRfc } from '../app/experiment/rfc';
import { collectCommand, planCommand } from './experiment-plan';
import { printCollapse2012, printLong2015, printRfc } from './experiment-print';
import { progressReporter } from './progress';
import { logLine, stderr, stdout } from '../os/stdio';
import { formatAblation } from '../experiment/ablation';
import {
  EXPERIMENT_OPTIONS,
  experimentDefaults,
  ExperimentOptions,
  ExperimentTable,
} from './experiment-options';
import { runCollapse2012 } from '../app/experiment/collapse2012';
import { MECHANISM_SWITCHES } from './options-mechanisms';

export type { ExperimentOptions } from './experiment-options';

/** What the cells of each held-out table are (for refusing the options that pick cells). */
const TABLE_CELLS: Record<Exclude<ExperimentTable, 'rfc'>, string> = {
  long2015: '32/48/60 vCPUs × pv-ticket, pv-qspinlock, tas',
  collapse2012: 'six curves × ticket, tas, a queued lock × 1–48 cores',
};

/** Parses the experiment's arguments. */
export function parseExperiment(argv: readonly string[]): ExperimentOptions {
  const o = experimentDefaults();
  parseArgv('experiment', EXPERIMENT_OPTIONS, { name: 'arguments', min: 0, max: 0 }, argv, o);
  const flags = argv.filter((a) => a.startsWith('--'));
  const alone = (allowed: RegExp, what: string): void => {
    const other = flags.find((a) => !allowed.test(a));
    if (other !== undefined)
      throw new UsageError(`${other.split('=')[0]} does not go with ${what} (the plan fixes it)`);
  };
  if ((o.cell !== null || o.stride > 0) && o.plan === null)
    throw new UsageError('--cell and --stride go with --plan DIR (the plan whose cells to run)');
  if (o.collect !== null) {
    if (o.plan !== null) throw new UsageError('--collect does not go with --plan');
    alone(/^--(collect|json|out|jobs)(=|$)/, '--collect');
    return o;
  }
  if (o.plan !== null && o.cell !== null) {
    alone(/^--(plan|cell|stride)(=|$)/, '--cell');
    return o;
  }
  if (o.plan !== null && o.out !== null)
    throw new UsageError(
      '--out does not go with --plan (give it to --collect, which writes the report)',
    );
  if (o.ablation !== null) {
    const other = argv.find((a) => /^--(named|out|trace-cells|table)\b/.test(a));
    if (other !== undefined)
      throw new UsageError(`${other.split('=')[0]} does not go with --ablation`);
  }
  if (o.table !== 'rfc') {
    const other = argv.find((a) =>
      /^--(scenarios|overcommit|locks|named|out|trace-cells|ablation)\b/.test(a),
    );
    if (other !== undefined)
      throw new UsageError(
        `${other.split('=')[0]} does not go with --table ${o.table} (its cells are the paper's: ${TABLE_CELLS[o.table]})`,
      );
  }
  if (o.table === 'collapse2012') {
    const other = Object.keys(o.params).find((k) => k !== 'lineRequestNs');
    if (other !== undefined)
      throw new UsageError(
        `--param ${other} does not go with --table collapse2012 (its machine is the paper's; only lineRequestNs, c, may be set)`,
      );
    return o;
  }
  if (o.ablation !== null && !ablationPossible(o))
    throw new UsageError(
      '--ablation needs both locks (--locks ticket,pv-yield) and cell A-1x (--scenarios with A, --overcommit with 1)',
    );
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

/** A progress line on stderr for each batch of runs. */
const progress = (label: string) => progressReporter(label, stderr());

/** `pvlockfs experiment --ablation NAME`: the matrix without and with one mechanism. */
async function ablationCommand(o: ExperimentOptions, name: string): Promise<number> {
  const m = MECHANISM_SWITCHES.find((x) => x.name === name);
  if (m === undefined) throw new Error(`unknown mechanism ${name}`);
  const r = await runAblation(o, name, m.key, progress);
  if (r === null) {
    logLine('pvlockfs: --ablation: a matrix had no finished A-1x runs of both locks to compare');
    return 1;
  }
  if (o.json)
    stdout().write(
      `${JSON.stringify({ ablation: name, seed: o.seed, reps: o.reps, params: o.params, wall_ms: r.wallMs, rows: r.rows, without: r.without, with: r.with })}\n`,
    );
  else
    stdout().write(
      `${formatAblation(name, r.rows, r.without, r.with)}\n\nwall time ${(r.wallMs / 1000).toFixed(1)} s\n`,
    );
  return 0;
}

/** `pvlockfs experiment --table long2015`: Long's 2015 table beside the model's. */
async function long2015Command(o: ExperimentOptions): Promise<number> {
  printLong2015(o, await runLong2015(o, progress('experiment long2015')));
  return 0;
}

/** `pvlockfs experiment --table collapse2012`: the 2012 collapse curves beside the model's. */
async function collapse2012Command(o: ExperimentOptions): Promise<number> {
  printCollapse2012(o, await runCollapse2012(o, progress('experiment collapse2012')));
  return 0;
}

/** `pvlockfs experiment`: runs the matrix and prints the RFC-format table (or JSON). */
export async function experimentCommand(o: ExperimentOptions): Promise<number> {
  if (o.collect !== null) return collectCommand(o, o.collect);
  if (o.plan !== null) return planCommand(o, o.plan);
  if (o.table === 'long2015') return long2015Command(o);
  if (o.table === 'collapse2012') return collapse2012Command(o);
  if (o.ablation !== null) return ablationCommand(o, o.ablation);
  const outDir = o.out === null ? null : prepareOutDir(o.out);
  await printRfc(o, await runRfc(o, progress), outDir);
  return 0;
}
