import { defaultConfig, LOCKS, LockAlgorithm, Pinning, PINNINGS } from '../sim/config';
import {
  configIntArg,
  intArg,
  listArg,
  nonEmptyArg,
  oneOfArg,
  OptionSpec,
  parseParam,
  ReservedParams,
} from './args';
import { parseDurationNs } from '../app/duration';
import type { MatrixRequest } from '../app/experiment/matrix';
import { MECHANISM_SWITCHES } from './options-mechanisms';
import type { CellName } from '../app/experiment/trace-cells';
import { UsageError } from '../app/errors';
import { shown } from '../os/shown';
import { SVG_FOR_MAX_NS, TRACE_FOR_MAX_NS, TRACE_FROM_NS } from '../app/windows';
import { durationText, parseBounded, parseFrom } from '../app/duration';
import { cpus } from 'node:os';

/** The published tables `--table` runs against, each with its line of help. */
export const EXPERIMENT_TABLES = {
  rfc: "the RFC's matrix (default)",
  long2015: "Waiman Long's 2015 table, never fitted (32/48/60 vCPUs on 32 pCPUs)",
  collapse2012:
    "the 2012 native collapse curves (48 cores, no virtualization): ticket, tas and a queued lock beside the paper's peaks and its Markov model",
} as const;
/** A table's name. */
export type ExperimentTable = keyof typeof EXPERIMENT_TABLES;

/** Options of `pvlockfs experiment`. */
export interface ExperimentOptions extends MatrixRequest {
  json: boolean;
  out: string | null;
  named: boolean;
  /** A mechanism of the 2010 host to run the matrix without and with (`--ablation`), or null. */
  ablation: string | null;
  /** Which published table to run against (`EXPERIMENT_TABLES`). */
  table: ExperimentTable;
  /** Cells whose first run is recorded as a JSON timeline (each lock), into --out. */
  traceCells: CellName[];
  traceFromNs: number;
  traceForNs: number;
  svgForNs: number;
  /** `--plan DIR`: write the runs as numbered cells there (or, with a cell index, run cells of it). */
  plan: string | null;
  /** `--cell I` (null: the scheduler's array index, if any) and `--stride T` (run I, I+T, …). */
  cell: number | null;
  stride: number;
  /** `--collect DIR`: the table from a plan's cells. */
  collect: string | null;
}

/** The options of `pvlockfs experiment` before any argument: what its help calls the defaults. */
export function experimentDefaults(): ExperimentOptions {
  return {
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
    traceFromNs: TRACE_FROM_NS,
    traceForNs: 100e6,
    svgForNs: 20e6,
    plan: null,
    cell: null,
    stride: 0,
    collect: null,
  };
}

const DEFAULTS = experimentDefaults();

/** `--trace-cells A2,C4`: cells by scenario letter and overcommit factor (1–16). */
export function parseCells(flag: string, text: string): CellName[] {
  const out: CellName[] = [];
  for (const item of text.split(',').map((s) => s.trim())) {
    const m = /^([A-Z])([1-9]\d?)$/.exec(item);
    const k = m ? Number(m[2]) : 0;
    if (!m || !(PINNINGS as readonly string[]).includes(m[1]) || k > 16)
      throw new UsageError(
        `${flag}: '${shown(item)}' is not a cell (expected a scenario ${PINNINGS.join('/')} and an overcommit 1–16, e.g. A2,C4)`,
      );
    if (!out.some((c) => c.scenario === m[1] && c.overcommit === k))
      out.push({ scenario: m[1] as Pinning, overcommit: k });
  }
  return out;
}

/** Parameters each run's cell sets: `--param` names the option to use instead. */
const RESERVED: ReservedParams = {
  seed: '--seed',
  lock: '--locks',
  pinning: '--scenarios',
  hogs: '--overcommit',
  jobWorkNs: '--work',
  loopJobs: '--work',
};

/** The option table of `pvlockfs experiment`. */
export const EXPERIMENT_OPTIONS: readonly OptionSpec<ExperimentOptions>[] = [
  {
    flag: '--reps',
    arg: 'N',
    help: `repetitions per cell (default ${DEFAULTS.reps})`,
    set: (o, v, f) => (o.reps = intArg(f, v, 1, 1000)),
  },
  {
    flag: '--seed',
    arg: 'N',
    help: `first seed; repetition r uses seed + r (default ${DEFAULTS.seed})`,
    set: (o, v, f) => (o.seed = configIntArg(f, v, 'seed')),
  },
  {
    flag: '--scenarios',
    arg: 'A,B,C',
    help: `pinning scenarios (default ${DEFAULTS.scenarios.join(',')})`,
    set: (o, v, f) => (o.scenarios = listArg(f, v, (s) => s as Pinning, PINNINGS)),
  },
  {
    flag: '--overcommit',
    arg: '1,2,3,4',
    help: `overcommit factors (default ${DEFAULTS.overcommits.join(',')})`,
    set: (o, v, f) => (o.overcommits = listArg(f, v, (s) => intArg(f, s, 1, 16))),
  },
  {
    flag: '--locks',
    arg: 'ticket,pv-yield',
    help: `any of ${LOCKS.join(', ')} (default ${DEFAULTS.locks.join(',')})`,
    set: (o, v, f) => (o.locks = listArg(f, v, (s) => s as LockAlgorithm, LOCKS)),
  },
  {
    flag: '--work',
    arg: 'DURATION',
    help: `guest CPU work per run (default ${durationText(DEFAULTS.workNs)})`,
    set: (o, v, f) => (o.workNs = parseDurationNs(f, v)),
  },
  {
    flag: '--cap',
    arg: 'DURATION',
    help: `simulated-time cap per run; beyond it the run did not finish (default ${durationText(DEFAULTS.capNs)})`,
    set: (o, v, f) => (o.capNs = parseDurationNs(f, v)),
  },
  {
    flag: '--jobs',
    arg: 'N',
    help: "worker threads (default: the machine's cores)",
    set: (o, v, f) => (o.jobs = intArg(f, v, 1, 256)),
  },
  {
    flag: '--param',
    arg: 'KEY=VALUE',
    help: 'a model parameter for every run (repeatable)',
    set: (o, v, f) => {
      const [k, x] = parseParam(f, v, RESERVED);
      (o.params as Record<string, unknown>)[k] = x;
    },
  },
  // The 2010 host's mechanisms, for every run (as --param KEY=true|false would set them).
  ...MECHANISM_SWITCHES.flatMap((m): OptionSpec<ExperimentOptions>[] => [
    {
      flag: `--${m.name}`,
      help: `every run with ${m.name} (docs/mechanisms.md)`,
      set: (o) => ((o.params as Record<string, unknown>)[m.key] = true),
    },
    {
      flag: `--no-${m.name}`,
      help: `every run without ${m.name}`,
      set: (o) => ((o.params as Record<string, unknown>)[m.key] = false),
    },
  ]),
  {
    flag: '--ablation',
    arg: 'NAME',
    help: `run the matrix without and with one mechanism of the 2010 host and print each cell's Difference side by side: ${MECHANISM_SWITCHES.map((m) => m.name).join(', ')}`,
    set: (o, v, f) =>
      (o.ablation = oneOfArg(
        f,
        v,
        MECHANISM_SWITCHES.map((m) => m.name),
      )),
  },
  {
    flag: '--named',
    help: 'also run the named experiments: one per effect the model must show',
    set: (o) => (o.named = true),
  },
  {
    flag: '--trace-cells',
    arg: 'A2,C4',
    help: 'write a JSON timeline of these cells (each lock, first seed) into --out',
    set: (o, v, f) => (o.traceCells = parseCells(f, v)),
  },
  {
    flag: '--trace-from',
    arg: 'DURATION',
    help: `timelines start at this simulated time (default ${durationText(DEFAULTS.traceFromNs)}: past the start-up)`,
    set: (o, v, f) => (o.traceFromNs = parseFrom(f, v)),
  },
  {
    flag: '--trace-for',
    arg: 'DURATION',
    help: `simulated time a JSON timeline covers (default ${durationText(DEFAULTS.traceForNs)})`,
    set: (o, v, f) => (o.traceForNs = parseBounded(f, v, TRACE_FOR_MAX_NS)),
  },
  {
    flag: '--trace-svg-for',
    arg: 'DURATION',
    help: `simulated time the report's timeline pictures cover (default ${durationText(DEFAULTS.svgForNs)})`,
    set: (o, v, f) => (o.svgForNs = parseBounded(f, v, SVG_FOR_MAX_NS)),
  },
  {
    flag: '--table',
    arg: Object.keys(EXPERIMENT_TABLES).join('|'),
    help: Object.entries(EXPERIMENT_TABLES)
      .map(([name, help]) => `${name}: ${help}`)
      .join('; '),
    set: (o, v, f) =>
      (o.table = oneOfArg(f, v, Object.keys(EXPERIMENT_TABLES) as ExperimentTable[])),
  },
  { flag: '--json', help: 'print one JSON object', set: (o) => (o.json = true) },
  {
    flag: '--plan',
    arg: 'DIR',
    help: "write every run of the experiment as a numbered cell into DIR (a plan, run anywhere by index) instead of running it; with --cell I, or a scheduler's array index (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX), run cell I of the plan in DIR",
    set: (o, v, f) => (o.plan = nonEmptyArg(f, v, 'a directory')),
  },
  {
    flag: '--cell',
    arg: 'I',
    help: 'with --plan DIR: run cell I (0 … cells − 1) and write its result into DIR',
    set: (o, v, f) => (o.cell = intArg(f, v, 0, 1e9)),
  },
  {
    flag: '--stride',
    arg: 'T',
    help: 'with --plan DIR and a cell index I: run cells I, I + T, I + 2T, … (T array tasks cover the plan)',
    set: (o, v, f) => (o.stride = intArg(f, v, 1, 1e9)),
  },
  {
    flag: '--collect',
    arg: 'DIR',
    help: "the experiment's table (and, for the RFC's, report.md, results.json and the pictures, into --out or DIR) from the cells of the plan in DIR; names the cells without a result",
    set: (o, v, f) => (o.collect = nonEmptyArg(f, v, 'a directory')),
  },
  {
    flag: '--out',
    arg: 'DIR',
    help: 'write report.md, results.json, times.svg, histograms.svg and timeline pictures',
    set: (o, v, f) => (o.out = nonEmptyArg(f, v, 'a directory')),
  },
];
