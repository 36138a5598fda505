import { Doing, Mark, TaskKind, TaskShown, VcpuShown } from '../trace/event';
import type { CpuSpan, GuestRows, Hold, Timeline, VcpuSpan } from '../trace/timeline';
import { leftWord, stateWord, taskWord } from '../trace/words';
import { esc } from './svg';

const W = 1200;
const LEFT = 120;
const RIGHT = 20;
const ROW = 18;
const BAR = 12;
const HOLD = 4;

/** The colour of a preempted vCPU, and the legend's key for it. */
const PREEMPTED: [string, string] = ['#d62728', 'runnable, preempted'];
/** Colours of what a running (or sleeping) vCPU does, and the legend's keys, in the legend's order. */
const DOING_COLOURS = {
  [Doing.User]: ['#9bd49b', 'user'],
  [Doing.Kernel]: ['#4c8fd6', 'kernel'],
  [Doing.Spin]: ['#ff9f1c', 'spinning on a lock'],
  [Doing.Yield]: ['#9467bd', 'in the yield hypercall'],
  [Doing.Blocked]: ['#c5b0d5', 'blocked on a lock (halted until kicked)'],
  [Doing.Halted]: ['#e8e8e8', 'halted (idle)'],
} as const satisfies Record<Doing, readonly [string, string]>;
const LEGEND_ORDER = [
  Doing.User,
  Doing.Kernel,
  Doing.Spin,
  Doing.Yield,
  Doing.Blocked,
  Doing.Halted,
];
const STATE_COLOURS: readonly (readonly [string, string])[] = [
  PREEMPTED,
  ...LEGEND_ORDER.map((d) => DOING_COLOURS[d]),
];
/**
 * The pCPU rows' colours, one per vCPU (or guest): none of them is a state's colour above, a
 * hog's grey or host work's dark grey, so a pCPU row is never read as a vCPU's state.
 */
const VCPU_PALETTE = ['#17becf', '#8c564b', '#e377c2', '#bcbd22', '#1a3a6b', '#2d6a4f', '#f4a6a6'];
const HOG_GREY = '#b0b0b0';
const HOST_WORK_GREY = '#606060';

function stateColour(s: VcpuShown): string {
  return s.preempted ? PREEMPTED[0] : DOING_COLOURS[s.doing][0];
}

/** A pCPU row's colour: per vCPU with one guest, per guest with several. */
function taskColour(t: TaskShown, perGuest: boolean): string {
  if (t.kind === TaskKind.Vcpu)
    return VCPU_PALETTE[(perGuest ? t.guest : t.index) % VCPU_PALETTE.length];
  return t.kind === TaskKind.Hog ? HOG_GREY : HOST_WORK_GREY;
}

type RectFn = (a: number, b: number, y: number, h: number, fill: string, tip: string) => string;

/** One guest's rows from `y`: each vCPU's states, its holds beneath, its marks; returns the next y. */
function guestRows(
  g: GuestRows,
  y0: number,
  x: (ns: number) => number,
  rect: RectFn,
  parts: string[],
): number {
  let y = y0;
  const byVcpu: Hold[][] = g.vcpus.map(() => []);
  for (const h of g.holds) byVcpu[h.vcpu]?.push(h);
  g.vcpus.forEach((spans, v) => {
    parts.push(rowLabel(`vCPU ${v}`, y));
    for (const s of spans)
      parts.push(rect(s.startNs, s.endNs, y, BAR, stateColour(s.state), vcpuTip(s)));
    const hy = y + BAR + 1;
    for (const h of byVcpu[v]) {
      parts.push(rect(h.startNs, h.endNs, hy, HOLD, '#f2c200', holdTip(h)));
      for (const p of spans)
        if (p.state.preempted && p.endNs > h.startNs && p.startNs < h.endNs)
          parts.push(
            rect(
              Math.max(p.startNs, h.startNs),
              Math.min(p.endNs, h.endNs),
              hy,
              HOLD,
              '#000000',
              `L${h.lock} held by vCPU ${v} while it is preempted`,
            ),
          );
    }
    for (const m of g.moments) {
      if (m.vcpu !== v) continue;
      const mx = x(m.ns).toFixed(2);
      if (m.mark === Mark.HolderPreempted)
        parts.push(
          `<path d="M${mx},${y - 1} l-4,-6 h8 z" fill="#000"><title>holder preempted at ${label(m.ns)}</title></path>`,
        );
      else if (m.mark === Mark.GrantToPreempted)
        parts.push(
          `<path d="M${mx},${y - 1} l-4,-6 h8 z" fill="#fff" stroke="#000"><title>lock granted to vCPU ${v} while preempted, at ${label(m.ns)}</title></path>`,
        );
    }
    y += ROW + HOLD;
  });
  return y;
}

function niceStep(spanNs: number): number {
  const raw = spanNs / 8;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const k of [1, 2, 5, 10]) if (k * p >= raw) return k * p;
  return 10 * p;
}

/** A time for people: ms with up to three decimals (µs below 1 ms, other than 0). */
function label(ns: number): string {
  return ns >= 1e6 || ns === 0 ? `${+(ns / 1e6).toFixed(3)} ms` : `${+(ns / 1e3).toFixed(1)} µs`;
}

/**
 * The timeline of one window as an SVG: a row per pCPU (which task runs, coloured by task),
 * then a row per vCPU (its state; beneath it its lock holds, red where the holder is
 * preempted), triangles at holder preemptions, a time axis in ms and a legend.
 */
export function timelineSvg(tl: Timeline, fromNs: number, toNs: number, title: string): string {
  const span = Math.max(1, toNs - fromNs);
  const x = (ns: number): number => LEFT + ((ns - fromNs) / span) * (W - LEFT - RIGHT);
  const rect = (a: number, b: number, y: number, h: number, fill: string, tip: string): string => {
    const x0 = x(a);
    const w = Math.max(0.3, x(b) - x0);
    return `<rect x="${x0.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${h}" fill="${fill}"><title>${esc(tip)}</title></rect>`;
  };
  const parts: string[] = [];
  let y = 44;
  parts.push(`<text x="${LEFT}" y="${y - 8}" font-size="12" font-weight="bold">host</text>`);
  // Several guests: a pCPU row is coloured by guest, and a vCPU task named after its guest.
  const perGuest = tl.guests.length > 1;
  const names = perGuest ? tl.guests.map((g) => g.name.replace(/^guest /, '')) : [];
  tl.cpus.forEach((spans, c) => {
    parts.push(rowLabel(tl.cpuNames[c] ?? `pCPU ${c}`, y));
    for (const s of spans)
      parts.push(rect(s.startNs, s.endNs, y, BAR, taskColour(s.task, perGuest), cpuTip(s, names)));
    y += ROW;
  });
  for (const g of tl.guests) {
    y += 22;
    parts.push(
      `<text x="${LEFT}" y="${y - 8}" font-size="12" font-weight="bold">${esc(g.name)}</text>`,
    );
    y = guestRows(g, y, x, rect, parts);
  }
  const axisY = y + 4;
  parts.push(axis(fromNs, toNs, x, axisY));
  const legendY = axisY + 34;
  parts.push(legend(legendY, pcpuKeys(tl, perGuest, names)));
  const H = legendY + 16 * (Math.ceil((STATE_COLOURS.length + 2) / 3) + 2) + 10;
  const moments = tl.guests.flatMap((g) => g.moments);
  const counts = `${moments.filter((m) => m.mark === Mark.HolderPreempted).length} holder preemptions, ${moments.filter((m) => m.mark === Mark.GrantToPreempted).length} grants to preempted waiters`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="${W - RIGHT}" y="18" font-size="11" text-anchor="end">${esc(`${label(fromNs)} – ${label(toNs)} of simulated time; ${counts}`)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function rowLabel(text: string, y: number): string {
  return `<text x="${LEFT - 6}" y="${y + BAR - 2}" font-size="11" text-anchor="end">${esc(text)}</text>`;
}

function spanTip(name: string, startNs: number, endNs: number, left?: string): string {
  const len = label(endNs - startNs);
  return `${name}: ${label(startNs)} – ${label(endNs)} (${len})${left ? `, left: ${left}` : ''}`;
}

function vcpuTip(s: VcpuSpan): string {
  return spanTip(stateWord(s.state), s.startNs, s.endNs);
}

function cpuTip(s: CpuSpan, names: readonly string[]): string {
  const left = s.left === undefined ? undefined : leftWord(s.left);
  return spanTip(taskWord(s.task, names), s.startNs, s.endNs, left);
}

function holdTip(h: Hold): string {
  const g = h.granted ? ', granted while preempted' : '';
  return `L${h.lock} held by vCPU ${h.vcpu}: ${label(h.startNs)} – ${label(h.endNs)}${g}`;
}

function axis(fromNs: number, toNs: number, x: (ns: number) => number, y: number): string {
  const step = niceStep(toNs - fromNs);
  const out = [`<line x1="${LEFT}" y1="${y}" x2="${x(toNs)}" y2="${y}" stroke="#000"/>`];
  for (let t = Math.ceil(fromNs / step) * step; t <= toNs; t += step) {
    const tx = x(t).toFixed(2);
    out.push(`<line x1="${tx}" y1="${y}" x2="${tx}" y2="${y + 4}" stroke="#000"/>`);
    out.push(
      `<text x="${tx}" y="${y + 16}" font-size="10" text-anchor="middle">${label(t)}</text>`,
    );
  }
  return out.join('\n');
}

/**
 * The pCPU rows' key: a colour per vCPU (or guest) that ran in the window — colours repeat every
 * seven, which the key says — then the hogs' and the host work's greys.
 */
function pcpuKeys(tl: Timeline, perGuest: boolean, names: readonly string[]): [string, string][] {
  const seen = new Set<number>();
  for (const spans of tl.cpus)
    for (const s of spans)
      if (s.task.kind === TaskKind.Vcpu) seen.add(perGuest ? s.task.guest : s.task.index);
  const n = VCPU_PALETTE.length;
  const byColour = new Map<number, number[]>();
  for (const k of [...seen].sort((a, b) => a - b))
    byColour.set(k % n, [...(byColour.get(k % n) ?? []), k]);
  const keys = [...byColour.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([c, ks]): [string, string] => [
      VCPU_PALETTE[c],
      perGuest
        ? ks.map((k) => names[k] ?? `guest ${k}`).join(', ')
        : `vCPU ${ks.length > 3 ? `${ks.slice(0, 2).join(', ')}, …` : ks.join(', ')}`,
    ]);
  return [...keys, [HOG_GREY, 'CPU hog'], [HOST_WORK_GREY, 'host work']];
}

function legend(y: number, pcpu: [string, string][]): string {
  const items: [string, string][] = [
    ...STATE_COLOURS.map(([c, n]): [string, string] => [c, n]),
    ['#f2c200', 'lock held (bar under the vCPU)'],
    ['#000000', 'lock held by a preempted vCPU'],
  ];
  const rows = Math.ceil(items.length / 3);
  const keys = items.map(([c, n], i) => {
    const lx = LEFT + (i % 3) * 340;
    const ly = y + Math.floor(i / 3) * 16;
    return `<rect x="${lx}" y="${ly - 9}" width="12" height="10" fill="${c}" stroke="#666" stroke-width="0.5"/><text x="${lx + 16}" y="${ly}" font-size="11">${esc(n)}</text>`;
  });
  const ly = y + rows * 16;
  const marks = `<path d="M${LEFT + 6},${ly} l-5,-8 h10 z" fill="#000"/><text x="${LEFT + 16}" y="${ly}" font-size="11">a lock holder is preempted</text><path d="M${LEFT + 346},${ly} l-5,-8 h10 z" fill="#fff" stroke="#000"/><text x="${LEFT + 356}" y="${ly}" font-size="11">a lock is granted to a preempted waiter</text>`;
  // The pCPU rows' own key, on a line of its own below the vCPU states'.
  const py = ly + 16;
  let px = LEFT + 70;
  const pcpuKey = [
    `<text x="${LEFT}" y="${py}" font-size="11" font-weight="bold">pCPU rows</text>`,
    ...pcpu.map(([c, n]) => {
      const at = px;
      px += 24 + 6.2 * n.length;
      return `<rect x="${at}" y="${py - 9}" width="12" height="10" fill="${c}" stroke="#666" stroke-width="0.5"/><text x="${at + 16}" y="${py}" font-size="11">${esc(n)}</text>`;
    }),
  ];
  return [...keys, marks, ...pcpuKey].join('\n');
}
