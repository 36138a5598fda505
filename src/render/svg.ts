import { HISTO_BUCKETS } from '../layout/tree';
import type { Cell } from '../experiment/compare';
import { RFC_TABLE } from '../experiment/rfc-table';

/** Escapes text for SVG (XML) content and attribute values. */
export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One series of bars in the completion-time chart: its name, colour, values and error bars. */
interface Series {
  name: string;
  color: string;
  v(s: string, k: number): number;
  e(s: string, k: number): number;
}

/** The chart's series: the RFC's times and the simulated ones, without and with the patch. */
function timeSeries(all: Cell[]): Series[] {
  const get = (s: string, k: number, lock: string): Cell | undefined =>
    all.find((c) => c.scenario === s && c.overcommit === k && c.lock === lock);
  const sim = (name: string, color: string, lock: string): Series => ({
    name,
    color,
    v: (s, k) => get(s, k, lock)?.mean_s ?? NaN,
    e: (s, k) => get(s, k, lock)?.stddev_s ?? 0,
  });
  const rfc = (name: string, color: string, col: 'base' | 'pv'): Series => ({
    name,
    color,
    v: (s, k) => RFC_TABLE[s][k][col],
    e: () => 0,
  });
  return [
    rfc('RFC w/o patch', '#c8a2a2', 'base'),
    sim('sim ticket', '#b03030', 'ticket'),
    rfc('RFC w/ patch', '#a2b4c8', 'pv'),
    sim('sim pv-yield', '#3060b0', 'pv-yield'),
  ];
}

/** One bar (or DNF) with its error bar. */
function bar(
  se: Series,
  s: string,
  k: number,
  x: number,
  bw: number,
  bottom: number,
  y: (v: number) => number,
): string[] {
  const v = se.v(s, k);
  if (!Number.isFinite(v))
    return [`<text x="${x}" y="${bottom - 4}" font-size="8" fill="${se.color}">DNF</text>`];
  const out = [
    `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(bottom - y(v)).toFixed(1)}" fill="${se.color}"><title>${esc(`${s}-${k}x ${se.name}: ${v.toFixed(1)} s`)}</title></rect>`,
  ];
  const e = se.e(s, k);
  if (e > 0) {
    const cx = x + (bw - 1) / 2;
    out.push(
      `<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${y(v + e).toFixed(1)}" y2="${y(Math.max(0, v - e)).toFixed(1)}" stroke="#222"/>`,
    );
  }
  return out;
}

/** Completion time per cell: RFC and simulated, ticket and pv-yield, with ±1 sd error bars. */
export function timesSvg(all: Cell[]): string {
  const cellsAB = ['A', 'B', 'C'].flatMap((s) => [1, 2, 3, 4].map((k) => ({ s, k })));
  const series = timeSeries(all);
  const W = 960;
  const H = 420;
  const left = 60;
  const bottom = 360;
  const values = cellsAB
    .flatMap(({ s, k }) => series.map((se) => se.v(s, k) + se.e(s, k)))
    .filter(Number.isFinite);
  const max = Math.max(1, ...values) * 1.1;
  const group = (W - left - 20) / cellsAB.length;
  const bw = group / (series.length + 1);
  const y = (v: number): number => bottom - (v / max) * (bottom - 30);
  const parts: string[] = [];
  cellsAB.forEach(({ s, k }, i) => {
    series.forEach((se, j) =>
      parts.push(...bar(se, s, k, left + i * group + j * bw + bw / 2, bw, bottom, y)),
    );
    parts.push(
      `<text x="${(left + i * group + group / 2).toFixed(1)}" y="${bottom + 16}" font-size="11" text-anchor="middle">${s}-${k}x</text>`,
    );
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => t * max);
  const axis = ticks.map(
    (t) =>
      `<line x1="${left - 4}" x2="${W - 20}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="10" text-anchor="end">${t.toFixed(0)}</text>`,
  );
  const legend = series.map(
    (se, j) =>
      `<rect x="${left + j * 150}" y="8" width="12" height="12" fill="${se.color}"/><text x="${left + j * 150 + 16}" y="18" font-size="11">${se.name}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${axis.join('\n')}
${legend.join('\n')}
${parts.join('\n')}
<text x="14" y="${bottom / 2}" font-size="11" transform="rotate(-90 14 ${bottom / 2})" text-anchor="middle">completion time (s, scaled to the RFC's A-1x pv)</text>
<text x="${W / 2}" y="${H - 8}" font-size="11" text-anchor="middle">pinning scenario and overcommit; error bars ±1 standard deviation over repetitions</text>
</svg>
`;
}

/** Small multiples: pv-yield's spinning and blocked histograms (summed over repetitions) per cell. */
export function histogramsSvg(all: Cell[]): string {
  const pv = all.filter((c) => c.lock === 'pv-yield');
  const cols = 4;
  const pw = 230;
  const ph = 150;
  const panels = pv.map((c, i) => {
    const x0 = (i % cols) * pw + 10;
    const y0 = Math.floor(i / cols) * ph + 30;
    const peak = Math.max(1, ...c.histo_spinning, ...c.histo_blocked);
    const max = Math.log10(1 + peak);
    const bars: string[] = [];
    for (let b = 0; b < HISTO_BUCKETS; b++) {
      const hs = (Math.log10(1 + c.histo_spinning[b]) / max) * 90;
      const hb = (Math.log10(1 + c.histo_blocked[b]) / max) * 90;
      const x = x0 + 10 + b * 6.6;
      bars.push(
        `<rect x="${x.toFixed(1)}" y="${(y0 + 110 - hs).toFixed(1)}" width="3" height="${hs.toFixed(1)}" fill="#3060b0"><title>spinning bucket ${b}: ${c.histo_spinning[b]}</title></rect>`,
      );
      bars.push(
        `<rect x="${(x + 3).toFixed(1)}" y="${(y0 + 110 - hb).toFixed(1)}" width="3" height="${hb.toFixed(1)}" fill="#d08020"><title>blocked bucket ${b}: ${c.histo_blocked[b]}</title></rect>`,
      );
    }
    return `<g><text x="${x0 + 10}" y="${y0 + 12}" font-size="11">${c.scenario}-${c.overcommit}x</text>
<text x="${x0 + 215}" y="${y0 + 16}" font-size="8" text-anchor="end" fill="#666">top line: ${peak.toLocaleString('en-US')} samples</text>
<line x1="${x0 + 10}" x2="${x0 + 215}" y1="${y0 + 20}" y2="${y0 + 20}" stroke="#ccc" stroke-dasharray="2,2"/>
<line x1="${x0 + 10}" x2="${x0 + 215}" y1="${y0 + 110}" y2="${y0 + 110}" stroke="#999"/>
<text x="${x0 + 10}" y="${y0 + 124}" font-size="8">1 ns</text><text x="${x0 + 10 + 10 * 6.6}" y="${y0 + 124}" font-size="8">1 µs</text><text x="${x0 + 10 + 20 * 6.6}" y="${y0 + 124}" font-size="8">1 ms</text><text x="${x0 + 10 + 30 * 6.6}" y="${y0 + 124}" font-size="8">1 s+</text>
${bars.join('')}</g>`;
  });
  const rows = Math.ceil(pv.length / cols);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * pw + 20}" height="${rows * ph + 40}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="18" font-size="12">pv-yield: histo_spinning (blue) and histo_blocked (orange) per cell, log2 buckets, log-scaled counts</text>
${panels.join('\n')}
</svg>
`;
}
