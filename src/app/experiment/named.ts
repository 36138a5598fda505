import { judgeNamed, NamedResult, namedSpecs } from '../../experiment/named';
import type { SimConfig } from '../../sim/config';
import { runPool } from './pool';
import type { Progress } from '../progress';

/** Runs the named experiments' cells on the worker pool and returns their verdicts. */
export async function namedExperiments(
  progress: Progress,
  base: {
    seed: number;
    reps: number;
    workNs: number;
    capNs: number;
    jobs: number;
    params: Partial<SimConfig>;
  },
): Promise<NamedResult[]> {
  const { specs, cellOf } = namedSpecs(base);
  const results = await runPool(specs, base.jobs, progress.update);
  progress.end();
  return judgeNamed(results, cellOf, base.capNs);
}
