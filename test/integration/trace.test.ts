import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHER, ROOT, run } from './harness';
import { checkTrace, TraceFile } from './trace-check';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-trace-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

async function pv(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await run(LAUNCHER, args, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`pvlockfs ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r;
}

async function readTrace(file: string): Promise<TraceFile> {
  return JSON.parse(await fsp.readFile(file, 'utf8')) as TraceFile;
}

/** The run's counters at simulated time `t` (a run of exactly that long: the same events). */
async function countersAt(t: string, cfg: string[]): Promise<Record<string, number>> {
  const r = await pv('run', '--json', '--sim-time', t, ...cfg);
  return (JSON.parse(r.stdout) as { locks: Record<string, number> }).locks;
}

/** A one-cell experiment (B-2x, one seed, 1 s of work): quick, and long enough for a timeline. */
const TINY_B2 = [
  'experiment',
  '--reps',
  '1',
  '--work',
  '1s',
  '--scenarios',
  'B',
  '--overcommit',
  '2',
];

const withoutWall = (text: string): string => text.replace(/"wall_ms":[0-9.]+/, '"wall_ms":0');

// Each case: a configuration and a window (the checker's counts are compared with the
// instruments over the same window: counters of a run to the window's end minus those of a run
// to its start).
const CASES: { name: string; cfg: string[]; from: string; to: string; forArg: string }[] = [
  {
    name: 'ticket, B-2x (the picture of the README)',
    cfg: ['--lock', 'ticket', '--pinning', 'B', '--overcommit', '2'],
    from: '0',
    to: '100ms',
    forArg: '100ms',
  },
  {
    name: 'pv-yield, A-3x, a window in the middle',
    cfg: ['--lock', 'pv-yield', '--pinning', 'A', '--overcommit', '3'],
    from: '300ms',
    to: '500ms',
    forArg: '200ms',
  },
  {
    name: 'pv-ticket, C-4x',
    cfg: ['--lock', 'pv-ticket', '--pinning', 'C', '--overcommit', '4'],
    from: '50ms',
    to: '150ms',
    forArg: '100ms',
  },
  {
    name: 'pv-qspinlock, 8 vCPUs on 4 pCPUs',
    cfg: ['--lock', 'pv-qspinlock', '--vcpus', '8', '--pcpus', '4', '--hogs', '0'],
    from: '0',
    to: '80ms',
    forArg: '80ms',
  },
  {
    name: 'ticket, B-3x, with the three 2010 host mechanisms',
    cfg: [
      '--lock',
      'ticket',
      '--pinning',
      'B',
      '--overcommit',
      '3',
      '--shadow-paging',
      '--vfs-locks',
      '--ipi-under-lock',
    ],
    from: '100ms',
    to: '250ms',
    forArg: '150ms',
  },
];

describe('run --trace: the timeline, read by an independent checker', () => {
  it.each(CASES)('$name', async ({ cfg, from, to, forArg }) => {
    const file = join(dir, `${cfg.join('_')}.json`);
    const traced = await pv(
      'run',
      '--json',
      '--sim-time',
      '1s',
      ...cfg,
      '--trace',
      file,
      '--trace-from',
      from,
      '--trace-for',
      forArg,
    );
    const plain = await pv('run', '--json', '--sim-time', '1s', ...cfg);
    // Tracing changes nothing: files, instruments, events, all byte-identical.
    expect(withoutWall(traced.stdout)).toBe(withoutWall(plain.stdout));
    expect(traced.stderr).toContain(`wrote ${file}`);

    const t = await readTrace(file);
    expect(t.displayTimeUnit).toBe('ns');
    const c = checkTrace(t);
    expect(c.problems).toEqual([]);
    expect(c.pids).toEqual({ host: '1', guest: '2' });
    expect(c.threadNames).toContain('pCPU 0 (pkg 0)');
    expect(c.threadNames).toContain('vCPU 0');
    expect(c.hostSpans).toBeGreaterThan(0);
    expect(c.vcpuSpans).toBeGreaterThan(0);
    expect(c.holds).toBeGreaterThan(0);
    const fromUs = from === '0' ? 0 : Number(from.replace('ms', '')) * 1000;
    const toUs = Number(to.replace('ms', '')) * 1000;
    expect(c.firstTs).toBe(fromUs);
    expect(c.lastTs).toBe(toUs);
    expect(t.otherData.window_from_ns).toBe(fromUs * 1000);
    expect(t.otherData.window_to_ns).toBe(toUs * 1000);
    expect((t.otherData.config as { lock: string }).lock).toBe(cfg[1]);

    const before = from === '0' ? null : await countersAt(from, cfg);
    const after = await countersAt(to, cfg);
    const delta = (k: string): number => after[k] - (before ? before[k] : 0);
    expect(c.instants['holder preempted'] ?? 0).toBe(delta('host_preemptions_of_holders'));
    expect(c.instants['granted while preempted'] ?? 0).toBe(delta('grants_to_preempted_waiters'));
    expect(c.instants['PLE exit'] ?? 0).toBe(delta('ple_exits'));
    expect(c.instants['directed yield'] ?? 0).toBe(delta('directed_yields'));
    // Every lock's kicks are counted under pv_ticket_kicks (the name the first one gave it).
    expect(c.instants.kick ?? 0).toBe(delta('pv_ticket_kicks'));
    // The 2010 host's mechanisms, when on: a shootdown or a remote flush is an instant each.
    if (cfg.includes('--ipi-under-lock')) {
      expect(delta('tlb_shootdowns_under_lock')).toBeGreaterThan(0);
      expect(c.instants['TLB shootdown'] ?? 0).toBe(delta('tlb_shootdowns_under_lock'));
    }
    if (cfg.includes('--shadow-paging')) {
      expect(delta('remote_tlb_flushes')).toBeGreaterThan(0);
      expect(c.instants['remote TLB flush'] ?? 0).toBe(delta('remote_tlb_flushes'));
    }
  });

  it('the ticket lock at B-2x shows lock-holder preemption in its first 100 ms', async () => {
    const file = join(dir, 'ticket-b2.json');
    await pv('run', '--lock', 'ticket', '--trace', file, '--sim-time', '200ms');
    const c = checkTrace(await readTrace(file));
    expect(c.problems).toEqual([]);
    expect(c.instants['holder preempted']).toBeGreaterThan(0);
    expect(c.instants['granted while preempted']).toBeGreaterThan(0);
  });

  it('the size limit ends the trace early and leaves a valid file, with a warning', async () => {
    const file = join(dir, 'limited.json');
    const r = await pv(
      'run',
      '--sim-time',
      '2s',
      '--trace',
      file,
      '--trace-for',
      '2s',
      '--trace-max-mb',
      '1',
    );
    expect(r.stderr).toMatch(/reached its size limit at simulated \d+ ns/);
    const st = await fsp.stat(file);
    expect(st.size).toBeGreaterThanOrEqual(1e6);
    expect(st.size).toBeLessThan(1.01e6);
    const t = await readTrace(file);
    expect(checkTrace(t).problems).toEqual([]);
    expect(t.otherData.truncated).toBe(true);
    expect(t.otherData.window_to_ns as number).toBeLessThan(2e9);
  });

  it('refuses windows it cannot record, naming the bound', async () => {
    const cases: [string[], RegExp][] = [
      [['--trace', 'x.json', '--trace-for', '61s'], /--trace-for: at most 60\.0+ s/],
      [['--trace-svg', 'x.svg', '--trace-svg-for', '2s'], /--trace-svg-for: at most 1\.0+ s/],
      [['--trace-for', '10ms'], /--trace-for needs --trace FILE or --trace-svg FILE/],
      [['--trace', 'x.json', '--trace-from', '3s'], /is not before the end of the run/],
      [['--trace', 'x.json', '--trace-max-mb', '0'], /--trace-max-mb/],
      [['--trace', ''], /--trace/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(LAUNCHER, ['run', ...args], { timeoutMs: 30_000, cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    expect(await fsp.readdir(dir)).not.toContain('x.json');
  });

  it('never writes through a planted symlink; a failed write leaves no temporary file', async () => {
    const victim = join(dir, 'victim');
    await fsp.writeFile(victim, 'keep\n');
    const link = join(dir, 'link.json');
    await fsp.symlink(victim, link);
    await pv('run', '--sim-time', '50ms', '--trace', link);
    expect(await fsp.readFile(victim, 'utf8')).toBe('keep\n');
    expect((await fsp.lstat(link)).isSymbolicLink()).toBe(false);
    const r = await run(LAUNCHER, ['run', '--trace', join(dir, 'no/such/dir/t.json')], {
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--trace .*cannot write there \(ENOENT\)/);
    expect((await fsp.readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('--trace-svg draws the window as an SVG with every pCPU and vCPU row', async () => {
    const file = join(dir, 't.svg');
    const json = join(dir, 't-svg.json');
    const window = ['--trace-from', '1855ms', '--trace-for', '20ms'];
    await pv(
      'run',
      '--lock',
      'ticket',
      '--sim-time',
      '2s',
      '--trace-svg',
      file,
      '--trace',
      json,
      ...window,
    );
    const svg = await fsp.readFile(file, 'utf8');
    const c = checkTrace(await readTrace(json));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const row of ['pCPU 0 (pkg 0)', 'pCPU 3 (pkg 1)', 'vCPU 0', 'vCPU 3'])
      expect(svg).toContain(`>${row}</text>`);
    // The picture counts what the JSON of the same window holds (and the window has some).
    const held = c.instants['holder preempted'] ?? 0;
    const granted = c.instants['granted while preempted'] ?? 0;
    expect(held + granted).toBeGreaterThan(0);
    expect(svg).toContain(
      `1855 ms – 1875 ms of simulated time; ${held} holder preemptions, ${granted} grants to preempted waiters`,
    );
    expect((svg.match(/fill="#000"><title>holder preempted/g) ?? []).length).toBe(held);
    expect((svg.match(/<rect /g) ?? []).length).toBeGreaterThan(100);
  });
});

describe('run --trace: which window', () => {
  const held = (stderr: string): { from: number; count: number } => {
    const m = /simulated (\d+)\D+\d+ ns, (\d+) holder preemptions/.exec(stderr);
    if (!m) throw new Error(`no window in: ${stderr}`);
    return { from: Number(m[1]), count: Number(m[2]) };
  };
  const svgRun = async (...extra: string[]) =>
    held(
      (
        await pv(
          ...['run', '--lock', 'ticket', '--sim-time', '2s', '--trace-svg', join(dir, 'w.svg')],
          ...extra,
        )
      ).stderr,
    );

  it('starts past the start-up by default (1 s), and at 0 in a run shorter than that', async () => {
    expect((await svgRun()).from).toBe(1e9);
    const short = await pv(...['run', '--sim-time', '500ms', '--trace-svg', join(dir, 's.svg')]);
    expect(held(short.stderr).from).toBe(0);
  });

  it('--trace-from busiest picks the window with the most holder preemptions', async () => {
    const busiest = await svgRun('--trace-from', 'busiest');
    expect(busiest.from % 5e6).toBe(0);
    expect(busiest.count).toBeGreaterThan(0);
    // No other window of the run has more (a sample of them, drawn on their own).
    for (const from of ['0', '300ms', '1s', '1855ms', '1980ms'])
      expect((await svgRun('--trace-from', from)).count).toBeLessThanOrEqual(busiest.count);
    // The same window drawn by its start is the same picture.
    const again = await svgRun('--trace-from', `${busiest.from}ns`);
    expect(again).toEqual(busiest);
  });

  it("keys the pCPU rows' colours, none of which is a vCPU state's colour", async () => {
    await svgRun();
    const svg = await fsp.readFile(join(dir, 'w.svg'), 'utf8');
    const key = svg.slice(svg.indexOf('>pCPU rows</text>'));
    const keyed = [...key.matchAll(/fill="(#[0-9a-f]{6})"[^>]*\/><text[^>]*>([^<]+)<\/text>/g)];
    expect(keyed.map((k) => k[2])).toEqual([
      'vCPU 0',
      'vCPU 1',
      'vCPU 2',
      'vCPU 3',
      'CPU hog',
      'host work',
    ]);
    const states = svg.slice(0, svg.indexOf('>pCPU rows</text>'));
    const stateColours = new Set(
      [
        ...states.matchAll(
          /<rect x="\d+(?:\.\d+)?" y="\d+" width="12" height="10" fill="(#[0-9a-f]{6})"/g,
        ),
      ].map((m) => m[1]),
    );
    expect(stateColours.size).toBeGreaterThan(5);
    for (const [, colour, name] of keyed.slice(0, 4))
      expect(stateColours.has(colour), `${name}'s ${colour} is a state's colour`).toBe(false);
  });
});

describe('experiment: timelines of named cells, and pictures in the report', () => {
  it('--trace-cells writes a JSON timeline and an SVG per cell and lock; report.md shows them', async () => {
    const out = join(dir, 'exp');
    const args = ['experiment', '--reps', '1', '--work', '2s', '--scenarios', 'A,C'];
    await pv(
      ...args,
      '--overcommit',
      '1,4',
      '--out',
      out,
      '--trace-cells',
      'A1,C4',
      '--trace-from',
      '200ms',
    );
    const names = await fsp.readdir(out);
    for (const cell of ['A1', 'C4'])
      for (const lock of ['ticket', 'pv-yield']) {
        expect(names).toContain(`trace-${cell}-${lock}.json`);
        expect(names).toContain(`timeline-${cell}-${lock}.svg`);
        const t = await readTrace(join(out, `trace-${cell}-${lock}.json`));
        const c = checkTrace(t);
        expect(c.problems).toEqual([]);
        expect(t.otherData.cell).toBe(cell);
        expect(c.firstTs).toBe(200_000);
      }
    const md = await fsp.readFile(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Timelines');
    expect(md).toContain('![timeline C4 ticket](timeline-C4-ticket.svg)');
    expect(md).toContain('[trace-A1-pv-yield.json](trace-A1-pv-yield.json)');
  });

  it('without --trace-cells the report still draws cell B-2x for each lock', async () => {
    const out = join(dir, 'exp2');
    await pv(
      'experiment',
      '--trace-from',
      '100ms',
      '--reps',
      '1',
      '--work',
      '1s',
      '--scenarios',
      'B',
      '--overcommit',
      '1,2',
      '--out',
      out,
    );
    const names = (await fsp.readdir(out)).filter(
      (n) => n.startsWith('timeline') || n.startsWith('trace'),
    );
    expect(names.sort()).toEqual(['timeline-B2-pv-yield.svg', 'timeline-B2-ticket.svg']);
    // A window after the job's end: said so, in the report and on stderr; the rest is written.
    const late = join(dir, 'exp3');
    const r = await pv(...TINY_B2, '--trace-from', '30s', '--out', late);
    expect(r.stderr).toMatch(
      /no timeline of B2 ticket: its run ended at simulated \d+ ns, before --trace-from/,
    );
    expect(await fsp.readFile(join(late, 'report.md'), 'utf8')).toMatch(
      /No timeline: the run's job ended at [\d.]+ ms/,
    );
  });

  it('--out replaces a symlink planted in the directory instead of writing through it', async () => {
    const out = join(dir, 'exp-planted');
    await fsp.mkdir(out);
    const victim = join(dir, 'victim-report');
    await fsp.writeFile(victim, 'keep\n');
    for (const name of ['report.md', 'results.json', 'timeline-B2-ticket.svg'])
      await fsp.symlink(victim, join(out, name));
    await pv(...TINY_B2, '--trace-from', '10ms', '--out', out);
    expect(await fsp.readFile(victim, 'utf8')).toBe('keep\n');
    for (const name of ['report.md', 'results.json', 'timeline-B2-ticket.svg'])
      expect((await fsp.lstat(join(out, name))).isFile(), name).toBe(true);
  });

  it('refuses a cell it does not know, and --trace-cells without --out', async () => {
    for (const [args, msg] of [
      [['--trace-cells', 'Z9', '--out', dir], /--trace-cells: 'Z9' is not a cell/],
      [['--trace-cells', 'A17', '--out', dir], /'A17' is not a cell/],
      [['--trace-cells', 'A2'], /--trace-cells needs --out DIR/],
    ] as [string[], RegExp][]) {
      const r = await run(LAUNCHER, ['experiment', ...args], { timeoutMs: 30_000 });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe("the README's picture", () => {
  it('docs/lhp-timeline.svg is what the command the README names draws today', async () => {
    const readme = await fsp.readFile(join(ROOT, 'README.md'), 'utf8');
    const m = /`scripts\/pvlockfs (run [^`]*--trace-svg) docs\/lhp-timeline\.svg`/.exec(
      readme.replace(/\n/g, ' '),
    );
    expect(m, 'the README names the command that drew the picture').not.toBeNull();
    const file = join(dir, 'readme.svg');
    await pv(...(m as RegExpExecArray)[1].split(/\s+/), file);
    expect(await fsp.readFile(file, 'utf8')).toBe(
      await fsp.readFile(join(ROOT, 'docs/lhp-timeline.svg'), 'utf8'),
    );
  });
});

describe('run --trace with several guests', () => {
  it('a process per guest; the checker passes; each guest counts what its instruments count', async () => {
    const guests = ['--guest', 'pv:lock=pv-yield', '--guest', 'tk:lock=ticket,vcpus=2'];
    const file = join(dir, 'guests.json');
    const args = ['run', '--json', ...guests, '--overcommit', '3'];
    const traced = await pv(
      ...args,
      '--sim-time',
      '1s',
      '--trace',
      file,
      '--trace-from',
      '200ms',
      '--trace-for',
      '300ms',
    );
    const plain = await pv(...args, '--sim-time', '1s');
    expect(withoutWall(traced.stdout)).toBe(withoutWall(plain.stdout));
    const t = await readTrace(file);
    const c = checkTrace(t);
    expect(c.problems).toEqual([]);
    expect(c.pids).toEqual({ host: '1', 'guest pv': '2', 'guest tk': '3' });
    expect(c.firstTs).toBe(200_000);
    expect(c.lastTs).toBe(500_000);
    const at = async (s: string): Promise<Record<string, { locks: Record<string, number> }>> =>
      (
        JSON.parse((await pv(...args, '--sim-time', s)).stdout) as {
          guests: Record<string, { locks: Record<string, number> }>;
        }
      ).guests;
    const [a, b] = await Promise.all([at('200ms'), at('500ms')]);
    for (const g of ['pv', 'tk']) {
      const got = c.instantsByProcess[`guest ${g}`] ?? {};
      const d = (k: string): number => b[g].locks[k] - a[g].locks[k];
      expect(got['holder preempted'] ?? 0, g).toBe(d('host_preemptions_of_holders'));
      expect(got['granted while preempted'] ?? 0, g).toBe(d('grants_to_preempted_waiters'));
    }
    expect(c.instants['holder preempted']).toBeGreaterThan(0);
  });

  it('--trace-svg draws a section per guest, pCPU rows coloured by guest', async () => {
    const file = join(dir, 'guests.svg');
    await pv(
      'run',
      '--guest',
      'pv:lock=pv-yield',
      '--guest',
      'tk:lock=ticket,vcpus=2',
      '--sim-time',
      '1s',
      '--trace-from',
      '500ms',
      '--trace-svg',
      file,
    );
    const svg = await fsp.readFile(file, 'utf8');
    expect(svg).toContain('>guest pv</text>');
    expect(svg).toContain('>guest tk</text>');
    expect((svg.match(/>vCPU \d<\/text>/g) ?? []).length).toBe(6);
    // The pCPU rows' own key: a colour per guest, the hogs' and the host work's greys.
    expect(svg).toContain('>pCPU rows</text>');
    expect(svg).toMatch(/fill="(#[0-9a-f]{6})"[^>]*\/><text[^>]*>pv<\/text>/);
    expect(svg).toMatch(/fill="(#[0-9a-f]{6})"[^>]*\/><text[^>]*>tk<\/text>/);
    expect(svg).toContain('>CPU hog</text>');
    expect(svg).toMatch(/<title>pv vCPU \d: /);
    expect(svg).toMatch(/<title>tk vCPU \d: /);
  });
});
