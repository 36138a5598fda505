import type { SimConfig } from '../sim/config';
import type { Lookup, NamedCell, NamedExperiment } from './named';

/**
 * When 4.15's hybrid pv qspinlock steals: a 16-vCPU guest on 16 pCPUs with one global hot lock
 * (the share `long2015` derives), at 1x, 2x and 3x, beside 4.2's queued lock. Its qlockstat
 * counters tell the acquisitions it stole ahead of the queue (`pv_lock_stealing`) and the waits in
 * `pv_wait` (`pv_wait_head` + `pv_wait_node`).
 */
const PARAMS: Partial<SimConfig> = {
  vcpus: 16,
  pcpus: 16,
  coresPerPackage: 4,
  hotLockShare: 0.33,
};
const TAG = 'hybrid';
const KS = [1, 2, 3] as const;

export const HYBRID_CELLS: readonly NamedCell[] = KS.flatMap((k) =>
  (['pv-qspinlock', 'pv-hybrid'] as const).map((lock) => ({
    scenario: 'B' as const,
    k,
    lock,
    params: PARAMS,
    tag: TAG,
  })),
);

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

export const HYBRID_EXPERIMENTS: readonly NamedExperiment[] = [
  {
    name: 'hybrid-steals',
    claim:
      "4.15's hybrid lock steals only under overcommit, where queue heads stop spinning: few steals at 1x, many at 2x and 3x, and there it waits in pv_wait less and finishes before 4.2's queued lock",
    judge: (get: Lookup) => {
      const at = (k: number) => ({
        h: get('B', k, 'pv-hybrid', TAG),
        q: get('B', k, 'pv-qspinlock', TAG),
      });
      const parts = KS.map((k) => {
        const { h, q } = at(k);
        return `B-${k}x (16 vCPUs, hot lock) hybrid ${h.t.toFixed(3)} s, lock_stealing ${pct(h.steal)} of acquisitions, pv_wait ${pct(h.waits)}; 4.2 queued ${q.t.toFixed(3)} s, lock_stealing ${pct(q.steal)}, pv_wait ${pct(q.waits)}`;
      });
      const one = at(1);
      const over = [at(2), at(3)];
      return {
        evidence: parts.join('; '),
        shown:
          one.h.steal < 0.002 &&
          over.every(({ h, q }) => h.steal > 5 * one.h.steal && h.waits < q.waits && h.t < q.t),
      };
    },
  },
];
