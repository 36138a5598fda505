import { HISTO_BUCKETS, HISTO_NAMES, SCALAR_NAMES } from '../layout/tree';
import { bar, bucketLabel, compact } from './histo';
import { formatNs } from './units';

const SCALARS = SCALAR_NAMES;
const HISTOS = HISTO_NAMES;
const ROWS = 16;

/** One reading of the directory. */
export interface Sample {
  atMs: number;
  v: Record<(typeof SCALARS)[number], number>;
  h: Record<(typeof HISTOS)[number], number[]>;
  /** A pvlockfs mount's: simulated time, hogs, spinning on preempted holders (ns). */
  host?: { simNs: number; hogs: number; holderPreemptedNs: number };
}

/** The host's line of a pvlockfs mount: its clock, its hogs, what lock-holder preemption wastes. */
function hostLine(prev: Sample, cur: Sample): string {
  const h = cur.host;
  if (h === undefined) return '';
  const p = prev.host ?? h;
  const dSim = h.simNs - p.simNs;
  const dLhp =
    h.holderPreemptedNs >= p.holderPreemptedNs ? h.holderPreemptedNs - p.holderPreemptedNs : 0;
  const waste = dSim > 0 ? `${((dLhp / dSim) * 1000).toFixed(1)} ms per sim s` : '—';
  return `simulated ${(h.simNs / 1e9).toFixed(1)} s  hogs ${h.hogs}  spinning on preempted holders: ${waste}`;
}

/** Renders one 80×24 frame from two readings (rates over the interval between them). */
export function renderFrame(dir: string, prev: Sample, cur: Sample): string[] {
  const dt = Math.max(1e-3, (cur.atMs - prev.atMs) / 1000);
  // After a zero_stats reset the counters start again: take the new values as the interval's.
  const d = (a: number, b: number): number => (b >= a ? b - a : b);
  const rate = (k: (typeof SCALARS)[number]): number => d(prev.v[k], cur.v[k]) / dt;
  const dh = (k: (typeof HISTOS)[number]): number[] => cur.h[k].map((x, i) => d(prev.h[k][i], x));
  const deltas = HISTOS.map(dh);
  const mean = (time: (typeof SCALARS)[number], hist: number): string => {
    const n = deltas[hist].reduce((a, b) => a + b, 0);
    return n > 0 ? formatNs(d(prev.v[time], cur.v[time]) / n) : '—';
  };
  const lines = [
    `pvlockfs top  ${dir.length > 52 ? `…${dir.slice(-51)}` : dir}`.padEnd(66) +
      `q quits`.padStart(14),
    `taken ${compact(cur.v.taken)} (${compact(rate('taken'))}/s)   slow ${compact(cur.v.taken_slow)} (${compact(rate('taken_slow'))}/s)   released ${compact(cur.v.released)}`,
    `mean per sample this interval: spinning ${mean('time_spinning', 1)}  blocked ${mean('time_blocked', 2)}  total ${mean('time_total', 0)}`,
    `knobs: timeout ${cur.v.timeout}   zero_stats ${cur.v.zero_stats}`,
    ...(cur.host ? [hostLine(prev, cur)] : []),
    `${'bucket'.padStart(9)}  ${'total /s'.padEnd(22)} ${'spinning /s'.padEnd(22)} ${'blocked /s'.padEnd(22)}`,
  ];
  const nz = deltas.flatMap((h) => h.map((c, i) => (c > 0 ? i : -1))).filter((i) => i >= 0);
  const lo = nz.length ? Math.min(...nz) : 0;
  const hi = nz.length ? Math.max(...nz) : 0;
  const group = Math.max(1, Math.ceil((hi - lo + 1) / ROWS));
  const rows: { label: string; v: number[] }[] = [];
  for (let b = lo; b <= hi && nz.length; b += group) {
    rows.push({
      label: bucketLabel(b),
      v: deltas.map(
        (h) => h.slice(b, Math.min(HISTO_BUCKETS, b + group)).reduce((a, x) => a + x, 0) / dt,
      ),
    });
  }
  const max = [0, 1, 2].map((k) => Math.max(0, ...rows.map((r) => r.v[k])));
  for (const r of rows)
    lines.push(
      `${r.label.padStart(9)}  ${r.v.map((x, k) => `${bar(x, max[k], 14)} ${compact(x).padStart(6)}`).join(' ')}`,
    );
  if (rows.length === 0) lines.push('  (no samples this interval)');
  while (lines.length < 23) lines.push('');
  lines.push(
    group > 1
      ? `each row: ${group} log2 buckets from its label up`
      : 'each row: one log2 bucket [2^i, 2^(i+1)) ns',
  );
  return lines.map((l) => (l.length > 80 ? l.slice(0, 80) : l));
}
