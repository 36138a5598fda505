import { performance } from 'node:perf_hooks';
import { ablationRows, ablationSummary } from '../../experiment/ablation';
import type { SimConfig } from '../../sim/config';
import type { Progress } from '../progress';
import { compareWithRfc, MatrixRequest, specs } from './matrix';
import { runPool } from './pool';

/** Whether an ablation can compare its matrices: both locks and cell A-1x (the scale's). */
export function ablationPossible(o: MatrixRequest): boolean {
  return (
    o.locks.includes('ticket') &&
    o.locks.includes('pv-yield') &&
    o.scenarios.includes('A') &&
    o.overcommits.includes(1)
  );
}

/**
 * The RFC matrix twice, without and with one mechanism (`key`, every other parameter as given),
 * and the Difference of every cell side by side. Null when a matrix has no comparison (its
 * A-1x runs did not finish).
 */
export async function runAblation(
  o: MatrixRequest,
  name: string,
  key: keyof SimConfig,
  progress: (label: string) => Progress,
): Promise<{
  rows: ReturnType<typeof ablationRows>;
  without: ReturnType<typeof ablationSummary>;
  with: ReturnType<typeof ablationSummary>;
  wallMs: number;
} | null> {
  const t0 = performance.now();
  const run = async (on: boolean): Promise<ReturnType<typeof compareWithRfc>> => {
    const p = progress(`experiment ${on ? 'with' : 'without'} ${name}`);
    const results = await runPool(
      specs({ ...o, params: { ...o.params, [key]: on } }),
      o.jobs,
      p.update,
    );
    p.end();
    return compareWithRfc(results);
  };
  const without = (await run(false)).cmp;
  const withIt = (await run(true)).cmp;
  if (without === null || withIt === null) return null;
  return {
    rows: ablationRows(without, withIt),
    without: ablationSummary(without),
    with: ablationSummary(withIt),
    wallMs: Math.round(performance.now() - t0),
  };
}
