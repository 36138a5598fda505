import { performance } from 'node:perf_hooks';
import type { Long2015Column } from '../../experiment/long2015';
import type { RunResult } from '../../experiment/run';
import type { Progress } from '../progress';
import type { MatrixRequest } from './matrix';
import { runPool } from './pool';
import { long2015Measures, long2015Runs } from './tables';

/**
 * Long's 2015 kernel build on a 32-pCPU host with guests of 32, 48 and 60 vCPUs (each guest does
 * 32 × the RFC run's work per vCPU): per column the times as ratios to pv-ticket and whether the
 * ranking matches the paper's.
 */
export async function runLong2015(
  o: MatrixRequest,
  progress: Progress,
): Promise<{ cols: Long2015Column[]; matches: number; results: RunResult[]; wallMs: number }> {
  const t0 = performance.now();
  const results = await runPool(long2015Runs(o), o.jobs, progress.update);
  progress.end();
  return { ...long2015Measures(results), results, wallMs: Math.round(performance.now() - t0) };
}
