import type { LockAlgorithm, SimConfig } from '../sim/config';
import type { RunResult, RunSpec } from './run';

/**
 * Native lock collapse (no virtualization): Boyd-Wickizer, Kaashoek, Morris and Zeldovich,
 * "Non-scalable locks are dangerous", Linux Symposium 2012. A 48-core machine (eight 6-core
 * 2.4 GHz Opteron chips) runs a microbenchmark: every core takes one lock, holds it for a serial
 * section of s cycles, releases it and works alone for a parallel section of mean a cycles. Ticket
 * locks collapse past a core count because every release is re-read by every spinner, one
 * cache-line request at a time; queued (MCS) locks do not. The paper explains it with a Markov
 * model, computed here exactly, beside the measured peaks and the simulation's.
 */

/** The machine's clock, cycles per ns. */
export const GHZ = 2.4;

/**
 * The time the home takes to answer one cache-line request (the model's c), cycles: the middle of
 * the 600–980 cycles that fit the paper's measured peaks (../shared/reference/collapse.md). Not fitted
 * here: the acceptance reports the simulation at both ends of the range too.
 */
export const C_CYCLES = 790;

/** One curve of the paper's Figures 8 and 9: a serial section, a parallel section, what it measured. */
export interface CollapseCurve {
  name: string;
  /** Serial section s and mean parallel section a, cycles. */
  sCycles: number;
  aCycles: number;
  /** The measured peak: its core count (a range read off the figure: its middle) and speedup. */
  peakCores: number;
  peakSpeedup: number;
  /** Whether the measured curve collapses (false: it reaches 48 at 48 cores). */
  collapses: boolean;
  /** What the figure shows after the peak, in words. */
  after: string;
}

/** The paper's six ticket-lock curves (read off the figures: ±1 core, ±5 %). */
export const COLLAPSE_CURVES: readonly CollapseCurve[] = [
  {
    name: 'fig8 400c 3.2%',
    sCycles: 400,
    aCycles: 12_100,
    peakCores: 9,
    peakSpeedup: 8,
    collapses: true,
    after: '≈4 at 11, ~1 by 48',
  },
  {
    name: 'fig8 400c 0.4%',
    sCycles: 400,
    aCycles: 99_600,
    peakCores: 28.5,
    peakSpeedup: 28,
    collapses: true,
    after: '≈11 at 30, ~5 at 48',
  },
  {
    name: 'fig8 400c 0.2%',
    sCycles: 400,
    aCycles: 199_600,
    peakCores: 41,
    peakSpeedup: 41,
    collapses: true,
    after: '≈19 at 42, ~12 at 48',
  },
  {
    name: 'fig9 400c 2%',
    sCycles: 400,
    aCycles: 19_600,
    peakCores: 12,
    peakSpeedup: 11.5,
    collapses: true,
    after: '≈5 at 13, ~1 by 48',
  },
  {
    name: 'fig9 1600c 2%',
    sCycles: 1_600,
    aCycles: 78_400,
    peakCores: 23,
    peakSpeedup: 22,
    collapses: true,
    after: '≈10.5 at 24, ~4 at 48',
  },
  {
    name: 'fig9 25600c 2%',
    sCycles: 25_600,
    aCycles: 1_254_400,
    peakCores: 48,
    peakSpeedup: 48,
    collapses: false,
    after: 'no collapse',
  },
];

/** The locks compared: the ticket lock, test-and-set, and a queued lock. */
export const COLLAPSE_LOCKS = [
  'ticket',
  'tas',
  'pv-qspinlock',
] as const satisfies readonly LockAlgorithm[];

/** Core counts run, 1 to 48. */
export const MAX_CORES = 48;

/**
 * The Markov model's stationary distribution for n cores: state k (cores holding or waiting) has
 * arrivals (n − k)/a and services 1/(s + c·k/2), so P_k ∝ n!/((n − k)! a^k) · Π_{i=1..k}(s + i·c/2).
 * Computed in logs (the products overflow for n = 48); times in any one unit.
 */
export function markovStates(n: number, a: number, s: number, c: number): number[] {
  const log = [0];
  for (let k = 1; k <= n; k++)
    log.push(log[k - 1] + Math.log((n - k + 1) * (s + (k * c) / 2)) - Math.log(a));
  const top = Math.max(...log);
  const p = log.map((x) => Math.exp(x - top));
  const sum = p.reduce((x, y) => x + y, 0);
  return p.map((x) => x / sum);
}

/**
 * The model's speedup over one core running alone: its throughput, Σ P_k (n − k)/a (every core
 * outside the lock arrives at rate 1/a), over one lone core's 1/(a + s).
 */
export function markovSpeedup(n: number, a: number, s: number, c: number): number {
  const p = markovStates(n, a, s, c);
  const outside = p.reduce((acc, pk, k) => acc + pk * (n - k), 0);
  return (outside / a) * (a + s);
}

/** How long a cell runs: warm-up, then the measured window, in loops of one core (a + s). */
const WARM_LOOPS = 200;
const WINDOW_LOOPS = 400;

/** The simulated host: 48 cores in 6-core chips, one lock, nothing but the benchmark. */
export function collapseParams(
  curve: CollapseCurve,
  n: number,
  cCycles: number,
): Partial<SimConfig> {
  const ns = (cycles: number): number => Math.round(cycles / GHZ);
  const c = ns(cCycles);
  return {
    vcpus: n,
    pcpus: MAX_CORES,
    coresPerPackage: 6,
    hostNoise: false,
    stalls: false,
    idleProbability: 0,
    bursty: false,
    burstAcquisitionsMean: 1,
    // The benchmark's parallel section is a loop of fixed length (the Markov model's arrivals are
    // exponential: its simplification, and why its collapse is gradual).
    userNsMean: ns(curve.aCycles),
    fixedUser: true,
    holdNsMean: ns(curve.sCycles),
    holdSigma: 0,
    locks: 1,
    localLockShare: 0,
    remoteLocalShare: 0,
    // A request for the line another chip holds is one request to its home: c.
    lineRequestNs: c,
    samePackageTransferNs: c,
    crossPackageTransferNs: c,
    // Native locks: no pv halting (a queued waiter spins until its turn).
    spinThreshold: 0xffffffff,
    pvHashEntries: Math.max(256, n),
  };
}

/** The cells: per curve, lock and core count, one pinned run (overcommit n/48: no hogs). */
export function collapseSpecs(o: {
  seed: number;
  cCycles?: number;
  cores?: readonly number[];
}): RunSpec[] {
  const cores = o.cores ?? Array.from({ length: MAX_CORES }, (_, i) => i + 1);
  const out: RunSpec[] = [];
  for (const curve of COLLAPSE_CURVES) {
    const loopNs = (curve.aCycles + curve.sCycles) / GHZ;
    for (const lock of COLLAPSE_LOCKS)
      for (const n of cores)
        out.push({
          scenario: 'A',
          overcommit: n / MAX_CORES,
          lock,
          seed: o.seed,
          workNs: 1e15,
          capNs: Math.round((WARM_LOOPS + WINDOW_LOOPS) * loopNs),
          rateWindowNs: [
            Math.round(WARM_LOOPS * loopNs),
            Math.round((WARM_LOOPS + WINDOW_LOOPS) * loopNs),
          ],
          params: collapseParams(curve, n, o.cCycles ?? C_CYCLES),
        });
  }
  return out;
}

/** A curve's peak and collapse: the core count of the highest speedup, and the first after it below ¾ of it. */
export interface PeakInfo {
  peakCores: number;
  peakSpeedup: number;
  /** First core count after the peak whose speedup is below ¾ of the peak's (null: none up to 48). */
  collapseCores: number | null;
  at48: number;
}

/** Peak and collapse of speedups indexed by core count − 1. */
export function peakOf(speedups: readonly number[]): PeakInfo {
  let best = 0;
  for (let i = 1; i < speedups.length; i++) if (speedups[i] > speedups[best]) best = i;
  const drop = speedups.findIndex((x, i) => i > best && x < 0.75 * speedups[best]);
  return {
    peakCores: best + 1,
    peakSpeedup: speedups[best],
    collapseCores: drop < 0 ? null : drop + 1,
    at48: speedups[speedups.length - 1],
  };
}

/** One curve's comparison: the paper's peak, the model's, and each simulated lock's. */
export interface CollapseRow {
  curve: CollapseCurve;
  model: PeakInfo;
  sim: Record<(typeof COLLAPSE_LOCKS)[number], PeakInfo>;
  /** Simulated speedups per lock, by core count − 1. */
  speedups: Record<(typeof COLLAPSE_LOCKS)[number], number[]>;
}

/** The simulated speedup of one run: acquisitions per ns in the window × one lone loop (a + s). */
export function simSpeedup(r: RunResult): number {
  const [from, to] = r.spec.rateWindowNs as [number, number];
  const p = r.spec.params;
  return (
    ((r.windowAcquisitions ?? 0) / (to - from)) *
    ((p.userNsMean as number) + (p.holdNsMean as number))
  );
}

/** The comparison, curve by curve (the results in `collapseSpecs`' order, all 48 core counts). */
export function collapseCompare(results: readonly RunResult[], cCycles = C_CYCLES): CollapseRow[] {
  let i = 0;
  return COLLAPSE_CURVES.map((curve) => {
    const speedups = {} as CollapseRow['speedups'];
    const sim = {} as CollapseRow['sim'];
    for (const lock of COLLAPSE_LOCKS) {
      speedups[lock] = results.slice(i, i + MAX_CORES).map(simSpeedup);
      i += MAX_CORES;
      sim[lock] = peakOf(speedups[lock]);
    }
    const model = peakOf(
      Array.from({ length: MAX_CORES }, (_, k) =>
        markovSpeedup(k + 1, curve.aCycles, curve.sCycles, cCycles),
      ),
    );
    return { curve, model, sim, speedups };
  });
}

/** The acceptance of one curve: where the simulated ticket lock peaks and collapses against the paper. */
export interface CollapseVerdict {
  curve: string;
  /** Simulated ticket peak − the paper's (cores). */
  ticketPeakOffBy: number;
  /** Model peak − the paper's (cores). */
  modelPeakOffBy: number;
  ticketWithin3: boolean;
  /** The ticket lock collapses after its peak if and only if the paper's does. */
  ticketCollapseAsPaper: boolean;
  queuedCollapses: boolean;
}

/** Each curve's verdict. */
export function collapseVerdicts(rows: readonly CollapseRow[]): CollapseVerdict[] {
  return rows.map((r) => ({
    curve: r.curve.name,
    ticketPeakOffBy: r.sim.ticket.peakCores - r.curve.peakCores,
    modelPeakOffBy: r.model.peakCores - r.curve.peakCores,
    ticketWithin3: Math.abs(r.sim.ticket.peakCores - r.curve.peakCores) <= 3,
    ticketCollapseAsPaper: (r.sim.ticket.collapseCores !== null) === r.curve.collapses,
    queuedCollapses: r.sim['pv-qspinlock'].collapseCores !== null,
  }));
}

/** The comparison as text: per curve the paper's peak, the model's and each lock's. */
export function formatCollapse(rows: readonly CollapseRow[], cCycles: number): string {
  const peak = (p: PeakInfo): string =>
    `${String(p.peakCores).padStart(2)} (${p.peakSpeedup.toFixed(1).padStart(4)}) ${p.collapseCores === null ? '   —' : `→${String(p.collapseCores).padStart(3)}`} ${p.at48.toFixed(1).padStart(4)}`;
  const lines = [
    `Native lock collapse: Boyd-Wickizer, Kaashoek, Morris, Zeldovich, "Non-scalable locks are dangerous" (Linux Symposium 2012). 48 cores (8 chips × 6, ${GHZ} GHz), one lock, a serial section s and a fixed parallel section a per loop; c = ${cCycles} cycles (${Math.round(cCycles / GHZ)} ns) per cache-line request.`,
    'Each entry: peak core count (speedup at the peak) → first core count below ¾ of the peak (— none), speedup at 48 cores.',
    '',
    `${'curve'.padEnd(16)} ${'paper'.padEnd(14)} ${'Markov model'.padEnd(22)} ${'ticket'.padEnd(22)} ${'tas'.padEnd(22)} queued (pv-qspinlock)`,
  ];
  for (const r of rows) {
    const paper = `${r.curve.peakCores} (${r.curve.peakSpeedup})`;
    lines.push(
      `${r.curve.name.padEnd(16)} ${paper.padEnd(14)} ${peak(r.model).padEnd(22)} ${peak(r.sim.ticket).padEnd(22)} ${peak(r.sim.tas).padEnd(22)} ${peak(r.sim['pv-qspinlock'])}`,
    );
  }
  lines.push('');
  for (const [i, v] of collapseVerdicts(rows).entries()) {
    const r = rows[i];
    const off = (x: number): string =>
      x === 0
        ? 'at'
        : `${Math.abs(x)} core${Math.abs(x) === 1 ? '' : 's'} ${x < 0 ? 'before' : 'after'}`;
    const collapse = r.curve.collapses
      ? v.ticketCollapseAsPaper
        ? `collapses at ${r.sim.ticket.collapseCores} (paper: ${r.curve.after})`
        : `does NOT collapse by 48 (paper: ${r.curve.after})`
      : v.ticketCollapseAsPaper
        ? 'does not collapse, as measured'
        : `collapses at ${r.sim.ticket.collapseCores}, the paper's does not`;
    lines.push(
      `${r.curve.name}: ticket peaks ${off(v.ticketPeakOffBy)} the paper's peak (model: ${off(v.modelPeakOffBy)}) — ${v.ticketWithin3 ? 'within ±3' : 'NOT within ±3'}; ${collapse}; the queued lock ${v.queuedCollapses ? 'COLLAPSES' : 'does not collapse'}.`,
    );
  }
  return lines.join('\n');
}
