import { HISTO_BUCKETS } from '../layout/tree';
import { esc } from './svg';

/** Human label for the lower bound of log2 bucket `i` (bucket 30 is the overflow). */
export function bucketLabel(i: number): string {
  const ns = 2 ** i;
  if (i >= 30) return '≥1.07 s';
  if (ns < 1e3) return `${ns} ns`;
  if (ns < 1e6) return `${+(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${+(ns / 1e6).toPrecision(3)} ms`;
  return `${+(ns / 1e9).toPrecision(3)} s`;
}

/** A bar of `width` cells for `v` out of `max`, with eighth-cell resolution. */
export function bar(v: number, max: number, width: number): string {
  if (max <= 0 || v <= 0) return ' '.repeat(width);
  const eighths = Math.max(1, Math.round((v / max) * width * 8));
  const full = Math.floor(eighths / 8);
  const part = eighths % 8;
  const s = '█'.repeat(full) + (part ? '▏▎▍▌▋▊▉'[part - 1] : '');
  return s.padEnd(width);
}

/** Compact count: 950, 12.3k, 4.5M. */
export function compact(n: number): string {
  if (n < 1e4) return String(Math.round(n));
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)}M`;
  return `${(n / 1e9).toFixed(1)}G`;
}

/** Text rendering: one line per bucket from the first to the last non-empty one. */
export function histoText(counts: number[], title: string): string {
  const nz = counts.map((c, i) => (c > 0 ? i : -1)).filter((i) => i >= 0);
  const out = [`${title} (bucket i: [2^i, 2^(i+1)) ns; ≥1.07 s also holds 0-ns samples)`];
  if (nz.length === 0) return `${out[0]}\n  all ${HISTO_BUCKETS} buckets are 0\n`;
  const max = Math.max(...counts);
  for (let i = nz[0]; i <= nz[nz.length - 1]; i++)
    out.push(
      `${String(i).padStart(3)} ${bucketLabel(i).padStart(9)} │${bar(counts[i], max, 50)} ${counts[i]}`,
    );
  return `${out.join('\n')}\n`;
}

/** SVG rendering: all 31 buckets as labelled bars on a log scale (counts span decades). */
export function histoSvg(counts: number[], title: string): string {
  const W = 900;
  const H = 360;
  const left = 60;
  const bottom = 290;
  const max = Math.max(1, ...counts);
  const logMax = Math.log10(1 + max);
  const bw = (W - left - 20) / HISTO_BUCKETS;
  const bars = counts
    .map((c, i) => {
      const h = (Math.log10(1 + c) / logMax) * (bottom - 50);
      const x = left + i * bw;
      const label =
        c > 0
          ? `<text x="${(x + bw / 2).toFixed(1)}" y="${(bottom - h - 3).toFixed(1)}" font-size="8" text-anchor="middle">${compact(c)}</text>`
          : '';
      return (
        `${label}<rect x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#3060b0"><title>${esc(`${bucketLabel(i)}: ${c}`)}</title></rect>` +
        `<text x="${(x + bw / 2).toFixed(1)}" y="${bottom + 12}" font-size="9" text-anchor="end" transform="rotate(-60 ${(x + bw / 2).toFixed(1)} ${bottom + 12})">${esc(bucketLabel(i))}</text>`
      );
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${left}" y="20" font-size="13">${esc(title)} — ${counts.reduce((a, b) => a + b, 0)} samples (log-scaled bars)</text>
<line x1="${left}" x2="${W - 20}" y1="${bottom}" y2="${bottom}" stroke="#999"/>
${bars}
</svg>
`;
}
