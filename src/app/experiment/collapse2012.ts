import { performance } from 'node:perf_hooks';
import type { CollapseRow } from '../../experiment/collapse2012';
import type { Progress } from '../progress';
import { runPool } from './pool';
import { collapseMeasures, collapseRuns } from './tables';

/**
 * The 2012 collapse microbenchmark on the simulated 48-core machine: six curves × ticket, tas and
 * a queued lock × 1–48 cores, beside the paper's peaks and its Markov model. `lineRequestNs` (if
 * given) sets c instead of the source's middle value.
 */
export async function runCollapse2012(
  o: { seed: number; jobs: number; params: { lineRequestNs?: number } },
  progress: Progress,
): Promise<{ rows: CollapseRow[]; cCycles: number; wallMs: number }> {
  const t0 = performance.now();
  const results = await runPool(collapseRuns(o), o.jobs, progress.update);
  progress.end();
  return { ...collapseMeasures(o, results), wallMs: Math.round(performance.now() - t0) };
}
