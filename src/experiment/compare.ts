import { HISTO_BUCKETS } from '../sim/stats';
import type { RunResult } from './run';
import { RFC_TABLE, rfcDifference } from './rfc-table';

/** One cell of the matrix: scenario × overcommit × lock, over its repetitions. */
export interface Cell {
  scenario: string;
  overcommit: number;
  lock: string;
  times_s: number[];
  /** The seed of each finished run, parallel to `times_s` (runs are in seed order). */
  seeds: number[];
  mean_s: number;
  stddev_s: number;
  did_not_finish: number;
  cpu_share: number;
  /** Lowest and highest single-vCPU CPU share (means over the repetitions). */
  vcpu_share_min: number;
  vcpu_share_max: number;
  spin_share: number;
  /** The part of spin_share spent while the lock's holder (or the waiter handed it) was preempted. */
  holder_preempted_share: number;
  lock_wait_p99_ns: number;
  lock_wait_p999_ns: number;
  lock_wait_max_ns: number;
  grants_to_preempted_waiters: number;
  host_preemptions_of_holders: number;
  convoy_episodes: number;
  convoy_max_ns: number;
  histo_spinning: number[];
  histo_blocked: number[];
}

const mean = (xs: number[]): number =>
  xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
const sd = (xs: number[]): number => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Groups runs into cells; completion times are scaled by `scale` (simulated s → RFC s). */
export function cells(results: RunResult[], scale: number): Cell[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of results) {
    const k = `${r.spec.scenario}|${r.spec.overcommit}|${r.spec.lock}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const s = rs[0].spec;
    const done = rs
      .filter((r) => r.completionNs !== null)
      .sort((a, b) => a.spec.seed - b.spec.seed);
    const times = done.map((r) => r3(((r.completionNs as number) / 1e9) * scale));
    const sumArr = (f: (r: RunResult) => number[]): number[] =>
      rs.reduce((acc, r) => acc.map((v, i) => v + f(r)[i]), new Array(HISTO_BUCKETS).fill(0));
    return {
      scenario: s.scenario,
      overcommit: s.overcommit,
      lock: s.lock,
      times_s: times,
      seeds: done.map((r) => r.spec.seed),
      mean_s: r3(mean(times)),
      stddev_s: r3(sd(times)),
      did_not_finish: rs.length - times.length,
      cpu_share: r3(mean(rs.map((r) => r.cpuShare))),
      vcpu_share_min: r3(mean(rs.map((r) => r.vcpuShareMin))),
      vcpu_share_max: r3(mean(rs.map((r) => r.vcpuShareMax))),
      spin_share: r3(mean(rs.map((r) => r.spinShare))),
      holder_preempted_share: r3(mean(rs.map((r) => r.lhpShare))),
      lock_wait_p99_ns: Math.round(mean(rs.map((r) => r.lockWaitP99Ns))),
      lock_wait_p999_ns: Math.round(mean(rs.map((r) => r.lockWaitP999Ns))),
      lock_wait_max_ns: Math.max(...rs.map((r) => r.lockWaitMaxNs)),
      grants_to_preempted_waiters: Math.round(mean(rs.map((r) => r.grantsToPreempted))),
      host_preemptions_of_holders: Math.round(mean(rs.map((r) => r.preemptedHolders))),
      convoy_episodes: Math.round(mean(rs.map((r) => r.convoyEpisodes))),
      convoy_max_ns: Math.max(...rs.map((r) => r.convoyMaxNs)),
      histo_spinning: sumArr((r) => r.histoSpinning),
      histo_blocked: sumArr((r) => r.histoBlocked),
    };
  });
}

/** A cell's Difference seed by seed: at one seed both locks run the same job (common random numbers). */
export interface Paired {
  /** Seeds where both locks finished. */
  runs: number;
  /** Of those, the runs where pv-yield finished first. */
  pvFaster: number;
  /** Std-dev of the per-seed Differences (fraction). */
  sd: number;
}

/** Per-seed Differences of two cells (seeds present in both). */
export function paired(base: Cell, pv: Cell): Paired {
  const d: number[] = [];
  base.seeds.forEach((seed, i) => {
    const j = pv.seeds.indexOf(seed);
    if (j >= 0) d.push((base.times_s[i] - pv.times_s[j]) / base.times_s[i]);
  });
  return { runs: d.length, pvFaster: d.filter((x) => x > 0).length, sd: sd(d) };
}

/** How the simulated table compares with the RFC's, cell by cell and overall. */
export interface Comparison {
  rows: {
    scenario: string;
    k: number;
    base: Cell;
    pv: Cell;
    diff: number;
    paired: Paired;
    rfcDiff: number;
    residualPp: number;
    baseRatio: number;
    pvRatio: number;
    rfcBaseRatio: number;
    rfcPvRatio: number;
  }[];
  maeDiffPp: number;
  pvWins: number;
  baseNoisier: number;
  baseRatioMaxRelErr: number;
  pvRatioMaxRelErr: number;
}

/** Compares ticket (W/o patch) and pv-yield (W/ patch) cells with the RFC. */
export function compare(all: Cell[]): Comparison | null {
  const get = (s: string, k: number, lock: string): Cell | undefined =>
    all.find((c) => c.scenario === s && c.overcommit === k && c.lock === lock);
  const a1b = get('A', 1, 'ticket');
  const a1p = get('A', 1, 'pv-yield');
  if (!a1b || !a1p) return null;
  const rows: Comparison['rows'] = [];
  for (const s of ['A', 'B', 'C']) {
    for (const k of [1, 2, 3, 4]) {
      const base = get(s, k, 'ticket');
      const pv = get(s, k, 'pv-yield');
      const rfc = RFC_TABLE[s]?.[k];
      if (!base || !pv || !rfc) continue;
      const diff = (base.mean_s - pv.mean_s) / base.mean_s;
      const rfcDiff = rfcDifference(s, k) as number;
      rows.push({
        scenario: s,
        k,
        base,
        pv,
        diff,
        paired: paired(base, pv),
        rfcDiff,
        residualPp: (diff - rfcDiff) * 100,
        baseRatio: base.mean_s / a1b.mean_s,
        pvRatio: pv.mean_s / a1p.mean_s,
        rfcBaseRatio: rfc.base / RFC_TABLE.A[1].base,
        rfcPvRatio: rfc.pv / RFC_TABLE.A[1].pv,
      });
    }
  }
  if (rows.length === 0) return null;
  return {
    rows,
    maeDiffPp: mean(rows.map((r) => Math.abs(r.residualPp))),
    pvWins: rows.filter((r) => r.pv.mean_s < r.base.mean_s).length,
    baseNoisier: rows.filter((r) => r.base.stddev_s > r.pv.stddev_s).length,
    baseRatioMaxRelErr: Math.max(...rows.map((r) => Math.abs(r.baseRatio / r.rfcBaseRatio - 1))),
    pvRatioMaxRelErr: Math.max(...rows.map((r) => Math.abs(r.pvRatio / r.rfcPvRatio - 1))),
  };
}

/** The targets of the RFC comparison, by id. */
export type TargetId = 'finish' | 'pv-wins' | 'mae' | 'base-ratio' | 'pv-ratio' | 'base-noisier';

/** One acceptance target of the RFC comparison and whether this run meets it. */
export interface TargetCheck {
  id: TargetId;
  target: string;
  value: string;
  met: boolean;
}

/**
 * The RFC comparison's targets (docs/model.md) with this run's values; the counts are over the
 * cells present (meaningful for the full 12-cell matrix).
 */
export function targetChecks(c: Comparison): TargetCheck[] {
  const n = c.rows.length;
  const dnf = c.rows.filter((r) => r.base.did_not_finish > 0 || r.pv.did_not_finish > 0).length;
  return [
    {
      id: 'finish',
      target: 'every cell finishes',
      value: `${n - dnf}/${n} cells without a capped run`,
      met: dnf === 0,
    },
    {
      id: 'pv-wins',
      target: 'pv-yield beats ticket in every cell',
      value: `${c.pvWins}/${n}`,
      met: c.pvWins === n,
    },
    {
      id: 'mae',
      target: 'mean absolute error of Difference ≤ 8 pp',
      value: `${c.maeDiffPp.toFixed(1)} pp`,
      met: c.maeDiffPp <= 8,
    },
    {
      id: 'base-ratio',
      target: "baseline T_k/T_A1 within 20 % of the RFC's",
      value: `largest error ${(c.baseRatioMaxRelErr * 100).toFixed(0)} %`,
      met: c.baseRatioMaxRelErr <= 0.2,
    },
    {
      id: 'pv-ratio',
      target: "pv T_k/T_A1 within 10 % of the RFC's",
      value: `largest error ${(c.pvRatioMaxRelErr * 100).toFixed(0)} %`,
      met: c.pvRatioMaxRelErr <= 0.1,
    },
    {
      id: 'base-noisier',
      target: "baseline std-dev above pv's in most cells",
      value: `${c.baseNoisier}/${n}`,
      met: c.baseNoisier > n / 2,
    },
  ];
}

/**
 * For every target this run does not meet: what falls short, in this run's numbers, and why
 * (the model's reason, with the instruments that show it). Empty when every target is met.
 */
export function explainUnmet(c: Comparison): string[] {
  const out: string[] = [];
  const name = (r: Comparison['rows'][number]): string => `${r.scenario}-${r.k}x`;
  const pc = (x: number): string => `${(x * 100).toFixed(1)} %`;
  const checks = targetChecks(c);
  const unmet = (id: TargetId): boolean => checks.some((t) => !t.met && t.id === id);
  if (unmet('finish')) {
    const capped = c.rows
      .filter((r) => r.base.did_not_finish > 0 || r.pv.did_not_finish > 0)
      .map(name);
    out.push(
      `Cells with a run stopped at the cap: ${capped.join(', ')} — the lock's convoys outlast the cap (see grants_to_preempted and convoys below); raise --cap to measure them.`,
    );
  }
  if (unmet('pv-wins')) {
    for (const r of c.rows.filter((x) => !(x.pv.mean_s < x.base.mean_s))) {
      out.push(
        `${name(r)}: pv-yield ${r.pv.mean_s.toFixed(3)} s vs ticket ${r.base.mean_s.toFixed(3)} s (Difference ${pc(r.diff)}, per seed ±${pc(r.paired.sd)}, pv first in ${r.paired.pvFaster}/${r.paired.runs}); ` +
          `spin share ticket ${pc(r.base.spin_share)} vs pv ${pc(r.pv.spin_share)}, ${r.base.grants_to_preempted_waiters} grants to preempted waiters per ticket run.`,
      );
    }
    if (c.rows.some((x) => x.k === 1 && !(x.pv.mean_s < x.base.mean_s))) {
      out.push(
        'Why at 1x: nothing else competes for the pCPUs, so a yield returns at once and pv-yield acts as an unfair spinlock; ' +
          'it differs from the ticket lock only where a FIFO hand-off goes to a waiter preempted by host noise or inside a VM-exit stall, ' +
          "which is rare and short (the spin shares above). The model has no mechanism for the RFC's 7.9–10.3 % gap " +
          '(named experiment ablation-1x-gap, with --named: removing noise and stalls changes nothing; docs/calibration.md).',
      );
    }
  }
  if (unmet('mae')) {
    const worst = [...c.rows]
      .sort((a, b) => Math.abs(b.residualPp) - Math.abs(a.residualPp))
      .slice(0, 4);
    out.push(
      `Largest residuals: ${worst.map((r) => `${name(r)} ${r.residualPp >= 0 ? '+' : ''}${r.residualPp.toFixed(1)} pp`).join(', ')}.`,
    );
  }
  if (unmet('mae') || unmet('base-ratio')) {
    out.push(
      "Why: the model's ticket penalty grows with overcommit (every grant to a preempted waiter costs an off-CPU gap, and gaps lengthen), " +
        "where the RFC's peaks at 2x–3x in A and falls in C; and the 1x cells carry the whole 1x gap.",
    );
  }
  if (unmet('base-ratio')) {
    const w = [...c.rows].sort(
      (a, b) =>
        Math.abs(b.baseRatio / b.rfcBaseRatio - 1) - Math.abs(a.baseRatio / a.rfcBaseRatio - 1),
    )[0];
    out.push(
      `Largest ticket ratio error: ${name(w)} ${w.baseRatio.toFixed(2)} vs the RFC's ${w.rfcBaseRatio.toFixed(2)}.`,
    );
  }
  if (unmet('pv-ratio')) {
    const w = [...c.rows].sort(
      (a, b) => Math.abs(b.pvRatio / b.rfcPvRatio - 1) - Math.abs(a.pvRatio / a.rfcPvRatio - 1),
    )[0];
    out.push(
      `Largest pv ratio error: ${name(w)} ${w.pvRatio.toFixed(2)} vs the RFC's ${w.rfcPvRatio.toFixed(2)} — the guest's idle share (idleProbability) and, in C, the hogs' placement (cHogShare) set it.`,
    );
  }
  if (unmet('base-noisier')) {
    out.push(
      `The ticket runs vary less than the RFC's: ${c.rows.length - c.baseNoisier} cells have the ticket std-dev at or below pv's; a 20 s job averages out what a 4–17 minute kernel build does not.`,
    );
  }
  return out;
}
