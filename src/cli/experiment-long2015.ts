import { performance } from 'node:perf_hooks';
import {
  formatLong2015,
  Long2015Column,
  long2015Compare,
  long2015Specs,
} from '../experiment/long2015';
import type { RunResult } from '../experiment/run';
import type { ExperimentOptions } from './experiment-options';
import { runPool } from '../app/experiment/pool';
import { progressReporter } from './progress';

/**
 * `experiment --table long2015`: Long's 2015 kernel build on a 32-pCPU host with guests of 32, 48
 * and 60 vCPUs, the workload as fitted to the RFC (each guest does 32 × the RFC run's work per
 * vCPU), printed beside the paper's times as ratios to pv-ticket, with the ranking per column.
 */
export async function long2015Command(o: ExperimentOptions): Promise<number> {
  const t0 = performance.now();
  const specs = long2015Specs({
    seed: o.seed,
    reps: o.reps,
    workPerVcpuNs: o.workNs / 4,
    capNs: o.capNs,
    params: o.params,
  });
  const progress = progressReporter('experiment long2015', process.stderr);
  const results = await runPool(specs, o.jobs, progress.update);
  progress.end();
  const cols = long2015Compare(results);
  const matches = cols.filter((c) => c.rankingMatches).length;
  const wallMs = Math.round(performance.now() - t0);
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ table: 'long2015', seed: o.seed, reps: o.reps, params: o.params, wall_ms: wallMs, rankings_matching: matches, columns: cols })}\n`,
    );
    return 0;
  }
  process.stdout.write(
    `${formatLong2015(cols)}\n\nRankings matching the paper: ${matches}/3.\n${why(cols, results)}\nwall time ${(wallMs / 1000).toFixed(1)} s\n`,
  );
  return 0;
}

/** What the model's numbers say about the mismatch: how time and spinning grow with the guest. */
function why(cols: readonly Long2015Column[], results: readonly RunResult[]): string {
  const t = (c: Long2015Column): number | null => c.rows[0].simS;
  const paper = (c: Long2015Column): number => c.rows[0].paperS;
  const [c32, , c60] = cols;
  const spin = (vcpus: number): string => {
    const rs = results.filter((r) => r.spec.lock === 'pv-ticket' && r.spec.params.vcpus === vcpus);
    return `${((rs.reduce((a, r) => a + r.spinShare, 0) / Math.max(1, rs.length)) * 100).toFixed(2)} %`;
  };
  const growth =
    t(c60) !== null && t(c32) !== null
      ? ((t(c60) as number) / (t(c32) as number)).toFixed(2)
      : 'DNF';
  return `Why: pv-ticket's time grows ${growth}× from 32 to 60 vCPUs here, ${(paper(c60) / paper(c32)).toFixed(2)}× in the paper; the vCPUs spend ${spin(32)} (32) and ${spin(60)} (60) of their CPU spinning. The lock population fitted to the RFC hardly contends even with 60 vCPUs, so lock-holder preemption costs little and the locks finish together; the paper's 32-vCPU column (no overcommit, pv-qspinlock 27 % ahead) is native contention the fitted population does not have. Of the 2010 host's mechanisms only IPIs under a lock apply to this host (EPT and VPID: no shadow paging; 4.1 guests: no global VFS locks), and it does not change the ranking (docs/calibration.md).`;
}
