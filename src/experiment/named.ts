import { LOCKS, type LockAlgorithm, type Pinning, type SimConfig } from '../sim/config';
import { LOCK_ALGORITHMS } from '../sim/lock-registry';
import type { RunResult, RunSpec } from './run';
import { Q } from '../sim/qstats';
import { GUEST_AND_SOLUTION_CELLS, GUEST_AND_SOLUTION_EXPERIMENTS } from './named-solutions';
import { MECHANISM_CELLS, MECHANISM_EXPERIMENTS } from './named-mechanisms';
import { HYBRID_CELLS, HYBRID_EXPERIMENTS } from './named-hybrid';

/** One named experiment's verdict: the effect it shows, the evidence, and whether the model shows it. */
export interface NamedResult {
  name: string;
  claim: string;
  evidence: string;
  shown: boolean;
}

/** One cell the named experiments measure; `tag` tells apart cells of the same scenario, overcommit and lock. */
export interface NamedCell {
  scenario: Pinning;
  k: number;
  lock: LockAlgorithm;
  params?: Partial<SimConfig>;
  tag?: string;
  /** Several guests on the host (the cell's lock is the first's): each loops for `durationNs`. */
  guests?: { name: string; params: Partial<SimConfig> }[];
  durationNs?: number;
}

/** A cell's measures, averaged over its repetitions. */
export interface CellMeasure extends NamedCell {
  /** Completion time, simulated s (the cap for a run that did not finish). */
  t: number;
  cpu: number;
  spin: number;
  grants: number;
  convoyMaxMs: number;
  /** Acquisitions stolen ahead of the queue, and waits in `pv_wait`, per acquisition (qlockstat; 0 without). */
  steal: number;
  waits: number;
  /** Several guests: each guest's CPU received over its entitlement, and received (pCPUs). */
  guestRatio: number[];
  guestReceived: number[];
}

/** The measured cells, looked up by scenario, overcommit, lock and tag. */
export type Lookup = (
  scenario: Pinning,
  k: number,
  lock: LockAlgorithm,
  tag?: string,
) => CellMeasure;

/** One named experiment: what it claims, and how its verdict follows from the measured cells. */
export interface NamedExperiment {
  name: string;
  claim: string;
  judge(get: Lookup): { evidence: string; shown: boolean };
}

/** The locks the named experiments compare, from the lock registry. */
const NAMED_LOCKS = LOCKS.filter((l) => LOCK_ALGORITHMS[l].named);

/** Every cell the named experiments need, measured once. */
export const NAMED_CELLS: readonly NamedCell[] = [
  ...[1, 2, 3, 4].flatMap((k) =>
    (['ticket', 'pv-yield'] as const).map((lock) => ({ scenario: 'B' as const, k, lock })),
  ),
  ...[2, 3].flatMap((k) => NAMED_LOCKS.map((lock) => ({ scenario: 'C' as const, k, lock }))),
  ...NAMED_LOCKS.map((lock) => ({ scenario: 'B' as const, k: 3, lock, tag: 'b3' })),
  {
    scenario: 'B',
    k: 3,
    lock: 'ticket',
    params: { grantOnlyToRunning: true },
    tag: 'grant-running',
  },
  { scenario: 'B', k: 3, lock: 'pv-yield', params: { compatYield: true }, tag: 'compat' },
  { scenario: 'B', k: 3, lock: 'ticket', params: { bursty: false }, tag: 'no-bursty' },
  {
    scenario: 'A',
    k: 1,
    lock: 'ticket',
    params: { hostNoise: false, stalls: false },
    tag: 'quiet',
  },
  {
    scenario: 'A',
    k: 1,
    lock: 'pv-yield',
    params: { hostNoise: false, stalls: false },
    tag: 'quiet',
  },
  { scenario: 'A', k: 1, lock: 'ticket' },
  { scenario: 'A', k: 1, lock: 'pv-yield' },
  ...GUEST_AND_SOLUTION_CELLS,
  ...MECHANISM_CELLS,
  ...HYBRID_CELLS,
];

const f2 = (x: number): string => x.toFixed(2);

/** The named experiments behind the list of effects in docs/model.md, in the order they are reported. */
export const NAMED_EXPERIMENTS: readonly NamedExperiment[] = [
  {
    name: 'ticket-collapse',
    claim:
      'the ticket lock loses more than its CPU share explains as overcommit grows (pv-yield scales with the share)',
    judge: (get) => {
      const ratio = (lock: LockAlgorithm, k: number): number =>
        get('B', k, lock).t / get('B', 1, lock).t;
      return {
        evidence: `B T_k/T_1 ticket ${[2, 3, 4].map((k) => f2(ratio('ticket', k))).join('/')} vs pv-yield ${[2, 3, 4].map((k) => f2(ratio('pv-yield', k))).join('/')}`,
        shown: ratio('ticket', 4) > ratio('pv-yield', 4) * 1.05,
      };
    },
  },
  {
    name: 'spin-then-yield-helps',
    claim: 'spinning a bounded time, then yielding, beats spinning forever',
    judge: (get) => {
      const wins =
        [2, 3].filter((k) => get('C', k, 'pv-yield').t < get('C', k, 'ticket').t).length +
        [2, 3, 4].filter((k) => get('B', k, 'pv-yield').t < get('B', k, 'ticket').t).length;
      return {
        evidence: `pv-yield faster than ticket in ${wins}/5 overcommitted cells (B-2x..4x, C-2x..3x)`,
        shown: wins >= 4,
      };
    },
  },
  {
    name: 'unfair-survives',
    claim:
      'unfairness survives overcommit better: a ticket lock that skips preempted waiters loses far less',
    judge: (get) => {
      const gr = get('B', 3, 'ticket', 'grant-running');
      const tk = get('B', 3, 'ticket', 'b3');
      return {
        evidence: `B-3x ticket ${f2(tk.t)} s, ticket granting only to running waiters ${f2(gr.t)} s, pv-yield (unfair) ${f2(get('B', 3, 'pv-yield', 'b3').t)} s; grants to preempted waiters ${Math.round(tk.grants)} → ${Math.round(gr.grants)}`,
        shown: gr.t < tk.t,
      };
    },
  },
  {
    name: 'plain-yield-weak',
    claim:
      'a plain CFS yield is weak: directed yield and halt+kick (pv-ticket, Xen block+kick, pv qspinlock) do better',
    judge: (get) => {
      // Both cells at 3x: where the plain yield's weakness shows in C and in B.
      const better = (['C', 'B'] as const).map((s) => {
        const tag = s === 'B' ? 'b3' : undefined;
        return {
          s,
          plain: get(s, 3, 'pv-yield', tag).t,
          dy: get(s, 3, 'directed-yield', tag).t,
          halt: get(s, 3, 'pv-ticket', tag).t,
          xen: get(s, 3, 'xen-block', tag).t,
          q: get(s, 3, 'pv-qspinlock', tag).t,
        };
      });
      return {
        evidence: better
          .map(
            (b) =>
              `${b.s}-3x plain ${f2(b.plain)} s, directed ${f2(b.dy)} s, halt+kick ${f2(b.halt)} s, block+kick ${f2(b.xen)} s, qspinlock ${f2(b.q)} s`,
          )
          .join('; '),
        shown: better.every((b) => Math.min(b.dy, b.halt) < b.plain),
      };
    },
  },
  {
    name: 'fairness-costs',
    claim:
      'yielding gives CPU to other tenants: a yield that really gives up its share (compat yield) costs the guest CPU share',
    judge: (get) => {
      const compat = get('B', 3, 'pv-yield', 'compat');
      const def = get('B', 3, 'pv-yield', 'b3');
      return {
        evidence: `B-3x pv-yield guest CPU share ${f2(def.cpu)} (default yield) vs ${f2(compat.cpu)} (compat yield), completion ${f2(def.t)} vs ${f2(compat.t)} s`,
        shown: compat.cpu < def.cpu || compat.t > def.t,
      };
    },
  },
  {
    name: 'ablation-bursty',
    claim: 'bursty lock requests feed the ticket convoys',
    judge: (get) => {
      const tk = get('B', 3, 'ticket', 'b3');
      const nb = get('B', 3, 'ticket', 'no-bursty');
      return {
        evidence: `B-3x ticket ${f2(tk.t)} s with bursts (longest convoy ${tk.convoyMaxMs.toFixed(0)} ms) vs ${f2(nb.t)} s without (${nb.convoyMaxMs.toFixed(0)} ms)`,
        shown: nb.t < tk.t,
      };
    },
  },
  {
    name: 'ablation-1x-gap',
    claim: 'host noise and µs stalls are what separate the locks at 1x (the RFC: 7.9 % in A)',
    judge: (get) => {
      const gap = (tag?: string): number =>
        (get('A', 1, 'ticket', tag).t - get('A', 1, 'pv-yield', tag).t) /
        get('A', 1, 'ticket', tag).t;
      return {
        evidence: `A-1x difference ${(gap() * 100).toFixed(1)} % with them, ${(gap('quiet') * 100).toFixed(1)} % without`,
        shown: gap() > gap('quiet'),
      };
    },
  },
  ...GUEST_AND_SOLUTION_EXPERIMENTS,
  ...MECHANISM_EXPERIMENTS,
  ...HYBRID_EXPERIMENTS,
];

/** The runs of the named cells: `reps` seeds each, in cell order; `cellOf[i]` is run i's cell. */
export function namedSpecs(base: {
  seed: number;
  reps: number;
  workNs: number;
  capNs: number;
  params: Partial<SimConfig>;
}): { specs: RunSpec[]; cellOf: number[] } {
  const specs: RunSpec[] = [];
  const cellOf: number[] = [];
  NAMED_CELLS.forEach((c, i) => {
    for (let r = 0; r < base.reps; r++) {
      specs.push({
        scenario: c.scenario,
        overcommit: c.k,
        lock: c.lock,
        seed: base.seed + r,
        workNs: base.workNs,
        capNs: c.durationNs ?? base.capNs,
        params: { ...base.params, ...c.params },
        ...(c.guests ? { guests: c.guests } : {}),
      });
      cellOf.push(i);
    }
  });
  return { specs, cellOf };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** The sum of qlockstat counters `qs` of a run per lock acquisition (0 without the counters). */
function qPerAcquisition(r: RunResult, qs: readonly Q[]): number {
  if (r.qstats === undefined || r.acquisitions === 0) return 0;
  return qs.reduce((a, q) => a + (r.qstats as number[])[q], 0) / r.acquisitions;
}

/** Every named experiment's verdict from the runs of `namedSpecs` (in its order). */
export function judgeNamed(
  results: readonly RunResult[],
  cellOf: readonly number[],
  capNs: number,
): NamedResult[] {
  const measures: CellMeasure[] = NAMED_CELLS.map((c, i) => {
    const rs = results.filter((_, j) => cellOf[j] === i);
    const t = rs.map((r) => (r.completionNs ?? capNs) / 1e9);
    return {
      ...c,
      t: mean(t),
      cpu: mean(rs.map((r) => r.cpuShare)),
      spin: mean(rs.map((r) => r.spinShare)),
      grants: mean(rs.map((r) => r.grantsToPreempted)),
      convoyMaxMs: Math.max(...rs.map((r) => r.convoyMaxNs)) / 1e6,
      steal: mean(rs.map((r) => qPerAcquisition(r, [Q.LockStealing]))),
      waits: mean(rs.map((r) => qPerAcquisition(r, [Q.WaitHead, Q.WaitNode]))),
      guestRatio: (c.guests ?? []).map((_, gi) =>
        mean(
          rs.map((r) => (r.guestCpu ? r.guestCpu[gi].received / r.guestCpu[gi].entitlement : 0)),
        ),
      ),
      guestReceived: (c.guests ?? []).map((_, gi) =>
        mean(rs.map((r) => (r.guestCpu ? r.guestCpu[gi].received : 0))),
      ),
    };
  });
  const get: Lookup = (s, k, lock, tag) => {
    const m = measures.find(
      (c) => c.scenario === s && c.k === k && c.lock === lock && c.tag === tag,
    );
    if (m === undefined)
      throw new Error(`named experiments: no cell ${s}-${k}x ${lock}${tag ? ` (${tag})` : ''}`);
    return m;
  };
  return NAMED_EXPERIMENTS.map((e) => ({ name: e.name, claim: e.claim, ...e.judge(get) }));
}
