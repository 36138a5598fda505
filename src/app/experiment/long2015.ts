import { performance } from 'node:perf_hooks';
import { Long2015Column, long2015Compare, long2015Specs } from '../../experiment/long2015';
import type { RunResult } from '../../experiment/run';
import type { Progress } from '../progress';
import type { MatrixRequest } from './matrix';
import { runPool } from './pool';

/**
 * Long's 2015 kernel build on a 32-pCPU host with guests of 32, 48 and 60 vCPUs, the workload as
 * fitted to the RFC (each guest does 32 × the RFC run's work per vCPU): per column the times as
 * ratios to pv-ticket and whether the ranking matches the paper's.
 */
export async function runLong2015(
  o: MatrixRequest,
  progress: Progress,
): Promise<{ cols: Long2015Column[]; matches: number; results: RunResult[]; wallMs: number }> {
  const t0 = performance.now();
  const specs = long2015Specs({
    seed: o.seed,
    reps: o.reps,
    workPerVcpuNs: o.workNs / 4,
    capNs: o.capNs,
    params: o.params,
  });
  const results = await runPool(specs, o.jobs, progress.update);
  progress.end();
  const cols = long2015Compare(results);
  const matches = cols.filter((c) => c.rankingMatches).length;
  return { cols, matches, results, wallMs: Math.round(performance.now() - t0) };
}
