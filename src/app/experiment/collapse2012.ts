import { performance } from 'node:perf_hooks';
import {
  C_CYCLES,
  collapseCompare,
  CollapseRow,
  collapseSpecs,
  GHZ,
} from '../../experiment/collapse2012';
import type { Progress } from '../progress';
import { runPool } from './pool';

/**
 * The 2012 collapse microbenchmark on the simulated 48-core machine: six curves × ticket, tas and
 * a queued lock × 1–48 cores, beside the paper's peaks and its Markov model. `lineRequestNs` (if
 * given) sets c instead of the source's middle value.
 */
export async function runCollapse2012(
  o: { seed: number; jobs: number; lineRequestNs?: number },
  progress: Progress,
): Promise<{ rows: CollapseRow[]; cCycles: number; wallMs: number }> {
  const t0 = performance.now();
  const cCycles = o.lineRequestNs === undefined ? C_CYCLES : Math.round(o.lineRequestNs * GHZ);
  const results = await runPool(collapseSpecs({ seed: o.seed, cCycles }), o.jobs, progress.update);
  progress.end();
  return {
    rows: collapseCompare(results, cCycles),
    cCycles,
    wallMs: Math.round(performance.now() - t0),
  };
}
