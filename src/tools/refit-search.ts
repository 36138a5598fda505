// First: the engine's inlining budget (see the module).
import '../cli/engine-flags';
import type { SimConfig } from '../sim/config';
import { Rng } from '../sim/rng';
import { MECHANISM_KEYS, MECHANISMS, SourceRange } from '../sim/mechanisms';
import { ablationSummary } from '../experiment/ablation';
import { compareWithRfc, specs } from '../app/experiment/matrix';
import { parseExperiment } from '../cli/experiment';
import { runPool } from '../app/experiment/pool';
import { PlanDir, writePlan } from '../app/experiment/plan-dir';
import type { RunResult, RunSpec } from '../experiment/run';
import { version } from '../cli/version';
import { UsageError } from '../app/errors';

/**
 * The refit search of the 2010 host's mechanisms (docs/calibration.md, "Refit with the
 * mechanisms"): random candidates inside every parameter's source range (docs/mechanisms.md),
 * each mechanism on or off, the rest of the default set as fitted; each candidate runs the RFC
 * matrix at one seed, the best few are run again at three seeds. One JSON line per candidate on
 * stdout, the ranking on stderr.
 *
 *   scripts/refit-search [CANDIDATES (default 120)] [SEED (default 1)] [--with-base]
 *   scripts/refit-search … --plan DIR     the one-seed stage as a plan (cells run anywhere)
 *   scripts/refit-search --collect DIR    its scores, then the best five at three seeds
 *
 * With `--with-base` the fitted parameters the RFC table moves most (docs/calibration.md, "What
 * moves what") are drawn too, inside the ranges that table and its sources allow.
 */

type Range = SourceRange;

/** Each mechanism parameter's range in its sources (docs/mechanisms.md), from the registry. */
export const SOURCE_RANGES: Readonly<Partial<Record<keyof SimConfig, Range>>> = Object.assign(
  {},
  ...MECHANISM_KEYS.map((k) => MECHANISMS[k].sourceRanges),
);

/** The fitted parameters drawn with `--with-base`, inside the ranges docs/calibration.md allows. */
export const BASE_RANGES: Readonly<Partial<Record<keyof SimConfig, Range>>> = {
  holdNsMean: [300, 3_000, 'int'],
  localLockShare: [0.25, 0.45, 'real'],
  localHoldNsMean: [65_000, 260_000, 'int'],
  remoteLocalShare: [0.005, 0.03, 'real'],
  noiseShare: [0.01, 0.05, 'real'],
  idleProbability: [0.1, 0.2, 'real'],
  cHogShare: [0, 1, 'real'],
};

/** One candidate: each mechanism on or off, each parameter drawn inside its range. */
export function candidate(rng: Rng, withBase = false): Partial<SimConfig> {
  const p: Record<string, number | boolean> = {};
  for (const k of MECHANISM_KEYS) p[k] = rng.uniform() < 0.5;
  const ranges = withBase ? { ...SOURCE_RANGES, ...BASE_RANGES } : SOURCE_RANGES;
  for (const [k, [lo, hi, kind]] of Object.entries(ranges) as [string, Range][]) {
    const x = lo + rng.uniform() * (hi - lo);
    p[k] = kind === 'int' ? Math.round(x) : Math.round(x * 1e4) / 1e4;
  }
  p.mmuLockHoldNs = Math.min(p.mmuLockHoldNs as number, p.mmuFaultNs as number);
  return p as Partial<SimConfig>;
}

/** The one-seed (or `reps`-seed) RFC matrix of a candidate. */
function candidateSpecs(params: Partial<SimConfig>, reps: number): RunSpec[] {
  return specs({ ...parseExperiment([]), reps, params });
}

/** A candidate's score from its matrix's results. */
function score(results: RunResult[]): Record<string, number> {
  const { table, cmp } = compareWithRfc(results);
  if (cmp === null) throw new Error('no comparison');
  const s = ablationSummary(cmp);
  const dnf = table.reduce((a, c) => a + c.did_not_finish, 0);
  return {
    mae_pp: dnf > 0 || !Number.isFinite(s.maePp) ? 999 : Math.round(s.maePp * 100) / 100,
    did_not_finish: dnf,
    pv_wins: s.pvWins,
    base_ratio_err: Math.round(s.baseScenarioRatioErr * 1000) / 1000,
    pv_ratio_err: Math.round(s.pvScenarioRatioErr * 1000) / 1000,
    a1_pct: Math.round(cmp.rows[0].diff * 1000) / 10,
    b1_pct: Math.round(cmp.rows[4].diff * 1000) / 10,
  };
}

async function evaluate(params: Partial<SimConfig>, reps: number): Promise<Record<string, number>> {
  const results = await runPool(candidateSpecs(params, reps), parseExperiment([]).jobs, () => {});
  return score(results);
}

/** The candidates of a search: the defaults first, then `n` drawn from `seed`. */
function candidates(n: number, seed: number, withBase: boolean): Partial<SimConfig>[] {
  const rng = new Rng(seed, 'refit');
  const out: Partial<SimConfig>[] = [{}];
  for (let i = 0; i < n; i++) out.push(candidate(rng, withBase));
  return out;
}

/** Ranks the one-seed scores, prints them, and runs the best five again at three seeds. */
async function confirm(
  tried: { params: Partial<SimConfig>; score: Record<string, number> }[],
): Promise<void> {
  tried.sort((a, b) => a.score.mae_pp - b.score.mae_pp);
  for (const t of tried.slice(0, 5)) {
    const s3 = await evaluate(t.params, 3);
    process.stdout.write(`${JSON.stringify({ stage: 'three seeds', params: t.params, ...s3 })}\n`);
    process.stderr.write(`best: MAE ${s3.mae_pp} pp at three seeds (${t.score.mae_pp} at one)\n`);
  }
}

/**
 * `--plan DIR`: the one-seed stage as a plan (every candidate's matrix, cell by cell), run by
 * `pvlockfs experiment --plan DIR --cell I` anywhere; `--collect DIR` scores it and runs the
 * best five at three seeds here.
 */
function planSearch(dir: string, n: number, seed: number, withBase: boolean): void {
  const cs = candidates(n, seed, withBase);
  const cells = cs.flatMap((p) => candidateSpecs(p, 1));
  writePlan(dir, 'refit', { candidates: cs, per: cells.length / cs.length }, cells, version());
  process.stdout.write(
    `refit-search: plan ${dir}: ${cs.length} candidates, ${cells.length} cells; run them with pvlockfs experiment --plan DIR --cell I (I = 0 … ${cells.length - 1}), then scripts/refit-search --collect DIR\n`,
  );
}

async function collectSearch(dir: string): Promise<number> {
  const pd = PlanDir.open(dir, '--collect', version());
  let got: ReturnType<PlanDir['results']>;
  try {
    if (pd.plan.table !== 'refit') throw new Error(`${dir} is not a refit search's plan`);
    got = pd.results();
  } finally {
    pd.close();
  }
  if (got.missing.length > 0) {
    process.stderr.write(
      `refit-search: --collect ${dir}: ${got.missing.length} of ${got.results.length} cells have no result; run them with pvlockfs experiment --plan DIR --cell I, then collect again\n`,
    );
    return 1;
  }
  const { candidates: cs, per } = pd.plan.request as {
    candidates: Partial<SimConfig>[];
    per: number;
  };
  const tried = cs.map((params, i) => ({
    params,
    score: score(got.results.slice(i * per, (i + 1) * per) as RunResult[]),
  }));
  for (const t of tried)
    process.stdout.write(
      `${JSON.stringify({ stage: 'one seed', params: t.params, ...t.score })}\n`,
    );
  await confirm(tried.slice(1));
  return 0;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const flag = (name: string): string | null => {
    const i = argv.indexOf(name);
    if (i < 0) return null;
    const v = argv[i + 1];
    argv.splice(i, 2);
    return v ?? '';
  };
  const plan = flag('--plan');
  const collect = flag('--collect');
  const withBase = argv.includes('--with-base');
  const args = argv.filter((a) => a !== '--with-base');
  const n = Number(args[0] ?? 120);
  const seed = Number(args[1] ?? 1);
  if (
    !Number.isInteger(n) ||
    n < 1 ||
    !Number.isInteger(seed) ||
    seed < 0 ||
    plan === '' ||
    collect === '' ||
    (plan !== null && collect !== null)
  ) {
    process.stderr.write(
      'usage: scripts/refit-search [CANDIDATES] [SEED] [--with-base] [--plan DIR | --collect DIR]\n',
    );
    return 2;
  }
  if (collect !== null) return collectSearch(collect);
  if (plan !== null) {
    planSearch(plan, n, seed, withBase);
    return 0;
  }
  const tried: { params: Partial<SimConfig>; score: Record<string, number> }[] = [];
  for (const [i, params] of candidates(n, seed, withBase).entries()) {
    const sc = await evaluate(params, 1);
    process.stdout.write(`${JSON.stringify({ stage: 'one seed', params, ...sc })}\n`);
    if (i === 0) continue;
    tried.push({ params, score: sc });
    process.stderr.write(`candidate ${i}/${n}: MAE ${sc.mae_pp} pp\n`);
  }
  await confirm(tried);
  return 0;
}

if (require.main === module)
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`refit-search: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(e instanceof UsageError ? 2 : 1);
    },
  );
