import type { LockAlgorithm, SimConfig } from '../sim/config';
import type { RunResult, RunSpec } from './run';

/**
 * A table the model was never fitted to: Waiman Long, "[PATCH 0/7] locking/qspinlock: Enhance
 * pvqspinlock & introduce queued unfair lock", LKML, 11 July 2015. A kernel build (`make
 * -j<vCPUs>`) in KVM guests of 32, 48 and 60 vCPUs on a 32-pCPU Westmere-EX host (8 sockets × 4
 * cores, PLE on, no pinning): the overcommit comes from the vCPU count. Times in seconds as
 * posted (m:ss.s); the rows this model has a lock for: pvticketlock (4.1.1), pvqspinlock
 * (4.2-rc1) and the unfair byte lock (qspinlock's test-and-set fallback).
 */
export const LONG2015_TABLE: Record<
  'pv-ticket' | 'pv-qspinlock' | 'tas',
  Record<number, number>
> = {
  'pv-ticket': { 32: 302.0, 48: 807.6, 60: 949.9 },
  'pv-qspinlock': { 32: 219.9, 48: 677.8, 60: 739.9 },
  tas: { 32: 263.8, 48: 434.7, 60: 530.4 },
};

/** The guest sizes of the table and its locks, in the table's order. */
export const LONG2015_VCPUS = [32, 48, 60] as const;
export const LONG2015_LOCKS = ['pv-ticket', 'pv-qspinlock', 'tas'] as const;

/**
 * The host of the table, the workload left as fitted to the RFC: 32 pCPUs in packages of 4,
 * pause-loop exiting with 2.6.39+'s directed yield (a 4.1 host), no hogs.
 */
export const LONG2015_HOST: Partial<SimConfig> = { pcpus: 32, coresPerPackage: 4, ple: 'yield-to' };

/**
 * The runs: every guest size × lock × repetition. Each guest does the same kernel build: the
 * RFC experiment's work per vCPU (`workPerVcpuNs`) times 32 vCPUs, whatever the guest's size.
 */
export function long2015Specs(o: {
  seed: number;
  reps: number;
  workPerVcpuNs: number;
  capNs: number;
  params: Partial<SimConfig>;
}): RunSpec[] {
  const out: RunSpec[] = [];
  for (const vcpus of LONG2015_VCPUS)
    for (const lock of LONG2015_LOCKS)
      for (let r = 0; r < o.reps; r++)
        out.push({
          scenario: 'B',
          overcommit: vcpus / 32,
          lock,
          seed: o.seed + r,
          workNs: o.workPerVcpuNs * 32,
          capNs: o.capNs,
          params: { ...o.params, ...LONG2015_HOST, vcpus },
        });
  return out;
}

/** One column of the comparison: a guest size, each lock's mean time and ratio to pv-ticket. */
export interface Long2015Column {
  vcpus: number;
  rows: {
    lock: LockAlgorithm;
    /** Mean simulated completion, s (null: a run did not finish). */
    simS: number | null;
    ratio: number | null;
    paperS: number;
    paperRatio: number;
  }[];
  /** Locks fastest first, simulated and in the paper. */
  order: LockAlgorithm[];
  paperOrder: LockAlgorithm[];
  rankingMatches: boolean;
}

/** The comparison of the runs with the paper, column by column. */
export function long2015Compare(results: readonly RunResult[]): Long2015Column[] {
  return LONG2015_VCPUS.map((vcpus) => {
    const mean = (lock: LockAlgorithm): number | null => {
      const rs = results.filter((r) => r.spec.lock === lock && r.spec.params.vcpus === vcpus);
      if (rs.length === 0 || rs.some((r) => r.completionNs === null)) return null;
      return rs.reduce((a, r) => a + (r.completionNs as number), 0) / rs.length / 1e9;
    };
    const base = mean('pv-ticket');
    const rows = LONG2015_LOCKS.map((lock) => {
      const simS = mean(lock);
      const paperS = LONG2015_TABLE[lock][vcpus];
      return {
        lock,
        simS,
        ratio: simS !== null && base !== null ? simS / base : null,
        paperS,
        paperRatio: paperS / LONG2015_TABLE['pv-ticket'][vcpus],
      };
    });
    const by = (f: (r: (typeof rows)[number]) => number): LockAlgorithm[] =>
      [...rows].sort((a, b) => f(a) - f(b)).map((r) => r.lock);
    const order = by((r) => r.simS ?? Infinity);
    const paperOrder = by((r) => r.paperS);
    return {
      vcpus,
      rows,
      order,
      paperOrder,
      rankingMatches: order.join() === paperOrder.join(),
    };
  });
}

/** The comparison as text: a row per lock and guest size, then the rankings. */
export function formatLong2015(cols: readonly Long2015Column[]): string {
  const f = (x: number | null, d = 2): string => (x === null ? 'DNF' : x.toFixed(d));
  const lines = [
    "Waiman Long's 2015 table (kernel build, 32-pCPU host, PLE on; never fitted): time as a ratio to pv-ticket",
    '',
    'lock           vCPUs   simulated s   ratio   paper s   paper ratio',
  ];
  for (const c of cols)
    for (const r of c.rows)
      lines.push(
        `${r.lock.padEnd(14)} ${String(c.vcpus).padStart(5)}   ${f(r.simS).padStart(11)}   ${f(r.ratio).padStart(5)}   ${r.paperS.toFixed(1).padStart(7)}   ${r.paperRatio.toFixed(2).padStart(11)}`,
      );
  lines.push('');
  for (const c of cols)
    lines.push(
      `${c.vcpus} vCPUs: fastest first ${c.order.join(' < ')} (paper: ${c.paperOrder.join(' < ')}) — ${c.rankingMatches ? 'ranking matches' : 'ranking differs'}`,
    );
  return lines.join('\n');
}

/** What the model's numbers say about the mismatch: how time and spinning grow with the guest. */
export function explainLong2015(
  cols: readonly Long2015Column[],
  results: readonly RunResult[],
): string {
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
