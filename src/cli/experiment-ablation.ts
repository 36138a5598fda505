import { performance } from 'node:perf_hooks';
import { ablationRows, ablationSummary, formatAblation } from '../experiment/ablation';
import { compareWithRfc, specs } from '../app/experiment/matrix';
import type { ExperimentOptions } from './experiment-options';
import { runPool } from '../app/experiment/pool';
import { MECHANISM_SWITCHES } from './options-mechanisms';
import { progressReporter } from './progress';

/**
 * `experiment --ablation NAME`: the RFC matrix twice, without and with one mechanism of the 2010
 * host (every other parameter as given), and the Difference of every cell side by side.
 */
export async function ablationCommand(o: ExperimentOptions, name: string): Promise<number> {
  const t0 = performance.now();
  const m = MECHANISM_SWITCHES.find((x) => x.name === name);
  if (m === undefined) throw new Error(`unknown mechanism ${name}`);
  const run = async (on: boolean): Promise<ReturnType<typeof compareWithRfc>> => {
    const progress = progressReporter(
      `experiment ${on ? 'with' : 'without'} ${name}`,
      process.stderr,
    );
    const all = specs({ ...o, params: { ...o.params, [m.key]: on } });
    const results = await runPool(all, o.jobs, progress.update);
    progress.end();
    return compareWithRfc(results);
  };
  const without = (await run(false)).cmp;
  const withIt = (await run(true)).cmp;
  if (without === null || withIt === null) {
    process.stderr.write('pvlockfs: --ablation needs both locks (ticket,pv-yield) and cell A-1x\n');
    return 2;
  }
  const rows = ablationRows(without, withIt);
  const a = ablationSummary(without);
  const b = ablationSummary(withIt);
  const wallMs = Math.round(performance.now() - t0);
  if (o.json)
    process.stdout.write(
      `${JSON.stringify({ ablation: name, seed: o.seed, reps: o.reps, params: o.params, wall_ms: wallMs, rows, without: a, with: b })}\n`,
    );
  else
    process.stdout.write(
      `${formatAblation(name, rows, a, b)}\n\nwall time ${(wallMs / 1000).toFixed(1)} s\n`,
    );
  return 0;
}
