import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { formatNs } from '../app/duration';
import { errnoOf, RuntimeError } from '../app/errors';
import { HISTO_NAMES, SCALAR_NAMES } from '../layout/tree';
import { bar, bucketLabel, compact, parseHisto } from './histo';
import { why } from '../os/errors';
import { shownPath } from '../os/shown';
import { readSmallFile } from '../os/small-file';
import { logLine, stdout } from '../os/stdio';

const SCALARS = SCALAR_NAMES;
const HISTOS = HISTO_NAMES;
const ROWS = 16;

/** One reading of the directory. */
export interface Sample {
  atMs: number;
  v: Record<(typeof SCALARS)[number], number>;
  h: Record<(typeof HISTOS)[number], number[]>;
}

/** Reads the 11 files of a kvm/spinlocks directory. */
export async function readSample(dir: string, atMs: number): Promise<Sample> {
  const v = {} as Sample['v'];
  const h = {} as Sample['h'];
  await Promise.all([
    ...SCALARS.map(async (f) => (v[f] = Number((await readSmallFile(join(dir, f))).trim()))),
    ...HISTOS.map(
      async (f) => (h[f] = parseHisto(await readSmallFile(join(dir, f)), join(dir, f))),
    ),
  ]);
  return { atMs, v, h };
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
      v: deltas.map((h) => h.slice(b, Math.min(31, b + group)).reduce((a, x) => a + x, 0) / dt),
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

/**
 * Finds the statistics directory under DIR (a debugfs root or the directory itself): the RFC's
 * kvm/spinlocks or Xen's xen/spinlocks, which has the same files and more. The later layouts
 * (kvm-guest/spinlocks, qlockstat) keep other files and are refused with a pointer to them.
 */
export async function spinlocksDir(dir: string): Promise<string> {
  const has = (p: string): Promise<boolean> =>
    fsp.access(p).then(
      () => true,
      () => false,
    );
  for (const candidate of [join(dir, 'kvm', 'spinlocks'), join(dir, 'xen', 'spinlocks'), dir]) {
    if (await has(join(candidate, 'histo_total'))) return candidate;
  }
  for (const later of ['kvm-guest/spinlocks', 'qlockstat']) {
    if (await has(join(dir, later))) {
      throw new RuntimeError(
        `${join(dir, later)}: top shows the RFC's layout (kvm/spinlocks) and Xen's (xen/spinlocks); read this one with cat or grep -r .`,
      );
    }
  }
  throw new RuntimeError(
    `${dir} has no kvm/spinlocks directory (expected a pvlockfs mount or a debugfs root such as /sys/kernel/debug)`,
  );
}

/** `pvlockfs top [DIR]`: refreshes every second until `q` (or Ctrl-C). */
export async function topCommand(dir: string): Promise<number> {
  const sl = await spinlocksDir(dir);
  let prev = await readSample(sl, Date.now());
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  return new Promise<number>((resolve) => {
    let stopped = false;
    const stop = (code: number): void => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      stdout().write('\x1b[?25h\n');
      resolve(code);
    };
    const tick = async (): Promise<void> => {
      try {
        const cur = await readSample(sl, Date.now());
        if (stopped) return;
        stdout().write(`\x1b[H\x1b[2J\x1b[?25l${renderFrame(sl, prev, cur).join('\n')}`, () => {
          // A reader that went away (`top | head`) ends top quietly, as a pipe's writer should.
          if (stdout().failed !== '') stop(0);
        });
        prev = cur;
      } catch (e) {
        if (stopped) return;
        stop(1);
        const code = errnoOf(e);
        const gone = code === 'ENOENT' || code === 'ENOTCONN' || code === 'ECONNABORTED';
        logLine(
          gone
            ? `pvlockfs top: ${shownPath(sl)} went away (${code}): the guest was unmounted or its daemon stopped`
            : `pvlockfs top: cannot read ${shownPath(sl)}: ${why(e)}`,
        );
      }
    };
    const timer = setInterval(() => void tick(), 1000);
    if (tty) stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', (b: Buffer) => {
      const k = b.toString();
      if (k === 'q' || k === 'Q' || k === '\x03') stop(0);
    });
    stdin.on('end', () => undefined);
    process.on('SIGINT', () => stop(0));
    process.on('SIGTERM', () => stop(0));
  });
}
