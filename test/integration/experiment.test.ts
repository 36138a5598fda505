import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reproduceCommand } from '../../src/app/experiment/pool';
import { LAUNCHER, run } from './harness';

const SMALL = ['--scenarios', 'A,B', '--overcommit', '1,2', '--reps', '2', '--work', '300ms'];
const dirs: string[] = [];

describe('pvlockfs experiment', () => {
  afterAll(async () => {
    for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
  });

  it('same seed ⇒ identical results.json apart from wall time, on a small matrix', async () => {
    const [a, b] = [
      await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-exp-')),
      await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-exp-')),
    ];
    dirs.push(a, b);
    const [ra, rb] = await Promise.all([
      run(LAUNCHER, ['experiment', ...SMALL, '--jobs', '1', '--out', a], { timeoutMs: 120_000 }),
      run(LAUNCHER, ['experiment', ...SMALL, '--jobs', '2', '--out', b], { timeoutMs: 120_000 }),
    ]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const strip = (t: string): string => t.replace(/"wall_ms": \d+/, '"wall_ms": 0');
    const ja = await fsp.readFile(join(a, 'results.json'), 'utf8');
    expect(strip(ja)).toBe(strip(await fsp.readFile(join(b, 'results.json'), 'utf8')));
    const json = JSON.parse(ja);
    expect(json.cells).toHaveLength(8);
    for (const c of json.cells) {
      expect(c.times_s).toHaveLength(2);
      expect(c).toHaveProperty('cpu_share');
      expect(c).toHaveProperty('lock_wait_p99_ns');
      expect(c.lock_wait_p999_ns).toBeGreaterThanOrEqual(c.lock_wait_p99_ns);
      expect(c.vcpu_share_min).toBeLessThanOrEqual(c.cpu_share);
      expect(c.vcpu_share_max).toBeGreaterThanOrEqual(c.cpu_share);
    }
    // The scale factor maps the simulated A-1x pv time onto the RFC's 251.613 s.
    const a1pv = json.cells.find(
      (c: { scenario: string; overcommit: number; lock: string }) =>
        c.scenario === 'A' && c.overcommit === 1 && c.lock === 'pv-yield',
    );
    expect(a1pv.mean_s).toBeCloseTo(251.613, 1);
    for (const f of ['report.md', 'times.svg', 'histograms.svg'])
      expect((await fsp.stat(join(a, f))).size).toBeGreaterThan(500);
    expect(await fsp.readFile(join(a, 'times.svg'), 'utf8')).toMatch(
      /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/,
    );
    const report = await fsp.readFile(join(a, 'report.md'), 'utf8');
    expect(report).toMatch(/Mean absolute error of Difference/);
    expect(report).toMatch(/## Targets\n\n```\n(met|NOT met) +every cell finishes/);
    expect(json.summary.targets.map((t: { target: string }) => t.target)).toContain(
      'mean absolute error of Difference ≤ 8 pp',
    );
    // Whatever this small matrix misses is explained in the report, and the fitting protocol is stated.
    const unmet = json.summary.unmet as string[];
    expect(Array.isArray(unmet)).toBe(true);
    if (json.summary.targets.some((t: { met: boolean }) => !t.met)) {
      expect(unmet.length).toBeGreaterThan(0);
      expect(report).toMatch(/### What is not met, and why\n\n- /);
      for (const line of unmet) expect(report).toContain(line);
    }
    expect(report).toMatch(
      /Fitting protocol: the default parameter set was fitted against all twelve cells/,
    );
    // Paired Differences: one per cell, each over the two seeds, consistent with the cells' times.
    const diffs = json.summary.differences as {
      scenario: string;
      overcommit: number;
      difference_pct: number;
      paired_runs: number;
      pv_faster_runs: number;
      paired_sd_pct: number;
    }[];
    expect(diffs.map((d) => `${d.scenario}${d.overcommit}`)).toEqual(['A1', 'A2', 'B1', 'B2']);
    for (const d of diffs) {
      const cell = (lock: string): { times_s: number[]; seeds: number[]; mean_s: number } =>
        json.cells.find(
          (c: { scenario: string; overcommit: number; lock: string }) =>
            c.scenario === d.scenario && c.overcommit === d.overcommit && c.lock === lock,
        );
      const [t, p] = [cell('ticket'), cell('pv-yield')];
      expect(t.seeds).toEqual([20100726, 20100727]);
      expect(p.seeds).toEqual(t.seeds);
      expect(d.paired_runs).toBe(2);
      expect(d.pv_faster_runs).toBe(t.times_s.filter((x, i) => p.times_s[i] < x).length);
      // The sample standard deviation of the two per-seed Differences is |d1 − d2| / √2 (in %,
      // from the times as printed to the millisecond: within 0.2 pp of the one reported).
      const perSeed = t.times_s.map((x, i) => ((x - p.times_s[i]) / x) * 100);
      const spread = Math.abs(perSeed[0] - perSeed[1]) / Math.SQRT2;
      expect(Math.abs(d.paired_sd_pct - spread)).toBeLessThanOrEqual(0.2);
      expect(d.difference_pct).toBeCloseTo(((t.mean_s - p.mean_s) / t.mean_s) * 100, 1);
    }
  });

  it('prints the RFC-format table with the RFC numbers and residuals, progress on stderr', async () => {
    const r = await run(LAUNCHER, ['experiment', ...SMALL], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Scenario A/);
    expect(r.stdout).toMatch(/273\.270\s+251\.613\s+7\.9%/);
    expect(r.stdout).toMatch(/pp \|/);
    // Each simulated Difference carries its per-seed spread and how many seeds pv-yield won
    // (stdout is read byte for byte as latin1, so '±' arrives as its two UTF-8 bytes).
    const utf8 = Buffer.from(r.stdout, 'latin1').toString('utf8');
    expect(utf8).toMatch(/1x: .*%\s+\(±\d+\.\d, [0-2]\/2\)/);
    expect(r.stdout).toMatch(/the faster lock changes between seeds in: /);
    // stderr is a pipe here, not a terminal: progress comes as whole lines, the last one 16/16.
    expect(r.stderr).toMatch(/^experiment: 16\/16 runs, about 0 s left$/m);
    expect(r.stderr).not.toMatch(/\r/);
  });

  it('compares further algorithms: pv-ticket finishes C-2x sooner than the ticket lock', async () => {
    const r = await run(
      LAUNCHER,
      [
        'experiment',
        '--scenarios',
        'C',
        '--overcommit',
        '2',
        '--locks',
        'ticket,pv-ticket',
        '--reps',
        '2',
        '--work',
        '500ms',
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const cells = JSON.parse(r.stdout).cells as { lock: string; mean_s: number }[];
    const mean = (lock: string): number => cells.find((c) => c.lock === lock)?.mean_s as number;
    expect(mean('pv-ticket')).toBeLessThan(mean('ticket'));
  });

  it('compares all six algorithms in one run; the unfair and blocking pv locks beat the ticket lock in C-2x', async () => {
    const locks = [
      'ticket',
      'pv-yield',
      'xen-block',
      'directed-yield',
      'pv-ticket',
      'pv-qspinlock',
    ];
    const r = await run(
      LAUNCHER,
      [
        'experiment',
        '--scenarios',
        'C',
        '--overcommit',
        '2',
        '--locks',
        locks.join(','),
        '--reps',
        '2',
        '--work',
        '2s',
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const cells = JSON.parse(r.stdout).cells as {
      lock: string;
      mean_s: number;
      did_not_finish: number;
    }[];
    expect(cells.map((c) => c.lock)).toEqual(locks);
    for (const c of cells) expect(c.did_not_finish, c.lock).toBe(0);
    const mean = (lock: string): number => cells.find((c) => c.lock === lock)?.mean_s as number;
    for (const lock of locks.slice(1)) expect(mean(lock), lock).toBeLessThan(mean('ticket'));
  });

  it('the default matrix (12 cells × ticket and pv-yield × 3 repetitions) runs to the end and prints the targets', async () => {
    const r = await run(LAUNCHER, ['experiment', '--json'], { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.work).toBe('20s');
    expect(json.cells).toHaveLength(24);
    for (const c of json.cells) expect(c.times_s).toHaveLength(3);
    const finished = json.summary.targets.find(
      (t: { target: string }) => t.target === 'every cell finishes',
    );
    expect(finished.met).toBe(true);
    // The RFC guard with the defaults (the contended hand-off on): Difference MAE ≤ 8 pp, pv-yield
    // faster in at least 11 of the 12 cells (A-1x is the documented exception).
    expect(json.summary.mae_difference_pp).toBeLessThanOrEqual(8);
    expect(json.summary.pv_wins).toBeGreaterThanOrEqual(11);
  });

  it('each run of the matrix is repeated exactly by the `pvlockfs run` line a failure would print', async () => {
    const spec = {
      scenario: 'C',
      overcommit: 3,
      lock: 'pv-ticket',
      seed: 11,
      workNs: 300e6,
      capNs: 120e9,
      params: { noiseShare: 0.01, bursty: false },
    } as const;
    const e = await run(
      LAUNCHER,
      [
        'experiment',
        '--scenarios',
        'C',
        '--overcommit',
        '3',
        '--locks',
        'pv-ticket',
        '--seed',
        '11',
        '--reps',
        '1',
        '--work',
        '300ms',
        '--param',
        'noiseShare=0.01',
        '--param',
        'bursty=false',
        '--json',
      ],
      { timeoutMs: 60_000 },
    );
    expect(e.code, e.stderr).toBe(0);
    const ej = JSON.parse(e.stdout) as { scale: number; cells: { times_s: number[] }[] };
    // No A-1x pv-yield cell in the matrix: it is run for the scale all the same.
    expect(ej.scale).toBeGreaterThan(1);
    const line = reproduceCommand({ ...spec, params: { ...spec.params } });
    expect(line).toBe(
      'pvlockfs run --pinning C --overcommit 3 --lock pv-ticket --seed 11 --work 300000000ns --sim-time 120000000000ns --param noiseShare=0.01 --param bursty=false --json',
    );
    const r = await run(LAUNCHER, line.split(' ').slice(1), { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const rj = JSON.parse(r.stdout) as { job: { completion_ns: number[] } };
    const scaled = Math.round((rj.job.completion_ns[0] / 1e9) * ej.scale * 1000) / 1000;
    expect(scaled).toBe(ej.cells[0].times_s[0]);
  });

  it('bad options: a clear message, exit 2', async () => {
    const r = await run(LAUNCHER, ['experiment', '--locks', 'mcs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--locks: 'mcs' is not valid/);
  });

  // A bad --out fails before any run (no progress line), with the path and the reason.
  it.each([
    [
      'a regular file',
      2,
      () => '/etc/passwd',
      /--out \/etc\/passwd: \/etc\/passwd exists and is not a directory/,
    ],
    [
      'a path below a regular file',
      2,
      () => '/etc/passwd/report',
      /\/etc\/passwd exists and is not a directory/,
    ],
    [
      'a directory that cannot be made (below /proc)',
      1,
      () => '/proc/pvlockfs-report',
      /--out \/proc\/pvlockfs-report: cannot create \/proc\/pvlockfs-report \(ENOENT\)/,
    ],
  ])('--out to %s: refused at once, exit %i', async (_what, code, path, message) => {
    const r = await run(
      LAUNCHER,
      [
        'experiment',
        '--out',
        path(),
        '--scenarios',
        'A',
        '--overcommit',
        '1',
        '--reps',
        '1',
        '--work',
        '300ms',
      ],
      { timeoutMs: 30_000 },
    );
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/experiment: \d+\/\d+ runs/);
    expect(r.stdout).toBe('');
  });

  it('--out makes missing parent directories', async () => {
    const d = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-exp-'));
    dirs.push(d);
    const out = join(d, 'a', 'b');
    const r = await run(
      LAUNCHER,
      [
        'experiment',
        '--out',
        out,
        '--scenarios',
        'A',
        '--overcommit',
        '1',
        '--reps',
        '1',
        '--work',
        '300ms',
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect((await fsp.readdir(out)).sort()).toEqual([
      'histograms.svg',
      'report.md',
      'results.json',
      'times.svg',
    ]);
  });
});

describe('experiment --table long2015: a table the model was never fitted to', () => {
  it('runs the paper cells and prints them beside the paper, as ratios to pv-ticket, with the rankings', async () => {
    const args = ['experiment', '--table', 'long2015', '--reps', '1', '--work', '4s'];
    const r = await run(LAUNCHER, [...args, '--json'], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      table: string;
      rankings_matching: number;
      columns: {
        vcpus: number;
        rows: {
          lock: string;
          simS: number | null;
          ratio: number | null;
          paperS: number;
          paperRatio: number;
        }[];
        order: string[];
        paperOrder: string[];
        rankingMatches: boolean;
      }[];
    };
    expect(j.table).toBe('long2015');
    expect(j.columns.map((c) => c.vcpus)).toEqual([32, 48, 60]);
    // The paper's numbers as posted (Waiman Long, LKML, 11 July 2015).
    expect(j.columns[1].rows.map((x) => x.paperS)).toEqual([807.6, 677.8, 434.7]);
    expect(j.columns[1].paperOrder).toEqual(['tas', 'pv-qspinlock', 'pv-ticket']);
    for (const c of j.columns) {
      expect(c.rows.map((x) => x.lock)).toEqual(['pv-ticket', 'pv-qspinlock', 'tas']);
      expect(c.rows[0].ratio).toBe(1);
      for (const x of c.rows) {
        expect(x.simS).toBeGreaterThan(0);
        expect(x.ratio as number).toBeCloseTo((x.simS as number) / (c.rows[0].simS as number), 9);
      }
      expect(c.rankingMatches).toBe(c.order.join() === c.paperOrder.join());
    }
    expect(j.rankings_matching).toBe(j.columns.filter((c) => c.rankingMatches).length);
  });

  it('with the hot lock derived from the 2012 paper, the ranking matches the paper in at least 2 of 3 columns', async () => {
    // One repetition of half the default work (the default run, 3 × 20 s, also gives 2 of 3:
    // docs/calibration.md); the 32-vCPU column's order is noise (the three within 0.1 %).
    const r = await run(
      LAUNCHER,
      ['experiment', '--table', 'long2015', '--reps', '1', '--work', '10s'],
      { timeoutMs: 290_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = Buffer.from(r.stdout, 'latin1').toString('utf8'); // the harness reads latin1
    expect(out).toMatch(/^pv-qspinlock +48 +[\d.]+ +[\d.]+ +677\.8 +0\.84$/m);
    const matching = /Rankings matching the paper: (\d)\/3\./.exec(out);
    expect(Number(matching?.[1]), out).toBeGreaterThanOrEqual(2);
    // The 32-vCPU margin beside the paper's, and what differs and why.
    expect(out).toMatch(
      /\n32 vCPUs: pv-qspinlock -?[\d.]+ % ahead of pv-ticket \(paper 27\.2 %\), tas -?[\d.]+ % \(paper 12\.6 %\)/,
    );
    // pv-ticket is the slowest under overcommit, as in the paper.
    for (const v of [48, 60])
      expect(out).toMatch(new RegExp(`^${v} vCPUs: fastest first \\S+ < \\S+ < pv-ticket `, 'm'));
  }, 300_000);

  it('refuses the options that choose the RFC matrix', async () => {
    const r = await run(LAUNCHER, ['experiment', '--table', 'long2015', '--locks', 'ticket'], {
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--locks does not go with --table long2015/);
  });
});

describe('experiment --table collapse2012: native collapse against the 2012 paper', () => {
  it("peaks each ticket curve within ±3 cores of the paper's and collapses after it; the queued lock never collapses", async () => {
    const r = await run(LAUNCHER, ['experiment', '--table', 'collapse2012', '--json'], {
      timeoutMs: 240_000,
    });
    expect(r.code, r.stderr).toBe(0);
    type Peak = { peakCores: number; peakSpeedup: number; collapseCores: number | null };
    const j = JSON.parse(r.stdout) as {
      table: string;
      c_cycles: number;
      verdicts: {
        curve: string;
        ticketWithin3: boolean;
        ticketCollapseAsPaper: boolean;
        queuedCollapses: boolean;
      }[];
      curves: {
        curve: {
          name: string;
          sCycles: number;
          aCycles: number;
          peakCores: number;
          collapses: boolean;
        };
        model: Peak;
        sim: Record<'ticket' | 'tas' | 'pv-qspinlock', Peak>;
        speedups: Record<'ticket' | 'tas' | 'pv-qspinlock', number[]>;
      }[];
    };
    expect(j.table).toBe('collapse2012');
    expect(j.c_cycles).toBe(790);
    expect(j.curves).toHaveLength(6);
    for (const c of j.curves) {
      const ticket = c.sim.ticket;
      expect(Math.abs(ticket.peakCores - c.curve.peakCores), c.curve.name).toBeLessThanOrEqual(3);
      if (c.curve.collapses) {
        // It collapses after its peak: below ¾ of the peak's speedup within 48 cores.
        expect(ticket.collapseCores, c.curve.name).not.toBeNull();
        expect(ticket.collapseCores as number).toBeGreaterThan(ticket.peakCores);
      } else expect(ticket.collapseCores, c.curve.name).toBeNull();
      expect(c.sim['pv-qspinlock'].collapseCores, c.curve.name).toBeNull();
      // Every curve has a speedup for each of 1–48 cores and a lone core runs at about 1.
      for (const lock of ['ticket', 'tas', 'pv-qspinlock'] as const) {
        expect(c.speedups[lock]).toHaveLength(48);
        expect(c.speedups[lock][0]).toBeGreaterThan(0.9);
        expect(c.speedups[lock][0]).toBeLessThan(1.001); // a and s are whole ns
      }
    }
    // The 25,600-cycle curve does not collapse; the verdicts say what the rows say.
    expect(j.curves[5].curve.collapses).toBe(false);
    expect(
      j.verdicts.every((v) => v.ticketWithin3 && v.ticketCollapseAsPaper && !v.queuedCollapses),
    ).toBe(true);
  });

  it('refuses the options that choose the RFC matrix and the parameters of another machine', async () => {
    const a = await run(LAUNCHER, ['experiment', '--table', 'collapse2012', '--locks', 'ticket'], {
      timeoutMs: 30_000,
    });
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--locks does not go with --table collapse2012/);
    const b = await run(
      LAUNCHER,
      ['experiment', '--table', 'collapse2012', '--param', 'holdNsMean=5'],
      {
        timeoutMs: 30_000,
      },
    );
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--param holdNsMean does not go with --table collapse2012/);
  });
});

describe('pvlockfs experiment --ablation', () => {
  const tiny = ['--scenarios', 'A,C', '--overcommit', '1,3', '--reps', '1', '--work', '2s'];

  it('runs the matrix without and with one mechanism and prints each cell side by side', async () => {
    const r = await run(LAUNCHER, ['experiment', '--ablation', 'vfs-locks', ...tiny], {
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    // The harness reads bytes as latin1; the table's minus signs are UTF-8.
    const out = Buffer.from(r.stdout, 'latin1').toString('utf8');
    expect(out).toMatch(/^Ablation of vfs-locks: Difference/);
    const rows = out.split('\n').filter((l) => /^\| [ABC]-\dx \|/.test(l));
    expect(rows.map((l) => l.split('|')[1].trim())).toEqual(['A-1x', 'A-3x', 'C-1x', 'C-3x']);
    // Without, with, change, RFC: the change is with − without.
    for (const l of rows) {
      const [, , without, withIt, change] = l.split('|').map((x) => x.trim());
      const num = (x: string): number => Number(x.replace('−', '-').replace(/ %| pp/, ''));
      expect(num(change)).toBeCloseTo(num(withIt) - num(without), 0);
    }
    expect(out).toMatch(/\| Difference MAE \| \d+\.\d pp \| \d+\.\d pp \|/);
    const j = await run(LAUNCHER, ['experiment', '--ablation', 'vfs-locks', ...tiny, '--json'], {
      timeoutMs: 120_000,
    });
    expect(j.code, j.stderr).toBe(0);
    const json = JSON.parse(j.stdout);
    expect(json.ablation).toBe('vfs-locks');
    expect(json.rows).toHaveLength(4);
    expect(json.with.maePp).toBeGreaterThan(0);
  }, 240_000);

  it('refuses an unknown mechanism and options it does not go with', async () => {
    const bad = await run(LAUNCHER, ['experiment', '--ablation', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--ablation.*shadow-paging \| vfs-locks \| ipi-under-lock/);
    const named = await run(LAUNCHER, ['experiment', '--ablation', 'vfs-locks', '--named']);
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/--named does not go with --ablation/);
    // What the comparison needs is checked before anything runs (no progress, no matrix).
    const oneLock = await run(LAUNCHER, [
      'experiment',
      '--ablation',
      'vfs-locks',
      '--locks',
      'ticket',
    ]);
    expect(oneLock.code).toBe(2);
    expect(oneLock.stderr).toBe(
      "pvlockfs: --ablation needs both locks (--locks ticket,pv-yield) and cell A-1x (--scenarios with A, --overcommit with 1)\nTry 'pvlockfs help'.\n",
    );
  });
});

describe('pvlockfs experiment on a subset of the cells', () => {
  it("scales by pv-yield's A-1x even when A-1x is not asked for: a cell prints the same seconds alone as in the whole matrix", async () => {
    const common = ['--overcommit', '1,2', '--reps', '2', '--work', '300ms', '--json'];
    const parse = (s: string): { scale: number; cells: { scenario: string; mean_s: number }[] } =>
      JSON.parse(Buffer.from(s, 'latin1').toString('utf8')) as {
        scale: number;
        cells: { scenario: string; mean_s: number }[];
      };
    const whole = await run(LAUNCHER, ['experiment', '--scenarios', 'A,B', ...common], {
      timeoutMs: 240_000,
    });
    const alone = await run(LAUNCHER, ['experiment', '--scenarios', 'B', ...common], {
      timeoutMs: 240_000,
    });
    expect(whole.code, whole.stderr).toBe(0);
    expect(alone.code, alone.stderr).toBe(0);
    const [w, b] = [parse(whole.stdout), parse(alone.stdout)];
    expect(w.scale).toBeGreaterThan(1);
    expect(b.scale).toBe(w.scale);
    // Only the cells asked for are reported; theirs are the whole matrix's, to the digit.
    expect(b.cells.every((c) => c.scenario === 'B')).toBe(true);
    expect(b.cells).toEqual(w.cells.filter((c) => c.scenario === 'B'));
  }, 300_000);
});

describe("pvlockfs experiment's tables: every column has a name its help defines", () => {
  it('each column heading of the RFC table and of the cells table appears in experiment --help', async () => {
    const out = await run(
      LAUNCHER,
      ['experiment', '--scenarios', 'A', '--overcommit', '1', '--reps', '1', '--work', '100ms'],
      { timeoutMs: 120_000 },
    );
    expect(out.code, out.stderr).toBe(0);
    const text = Buffer.from(out.stdout, 'latin1').toString('utf8');
    const help = (await run(LAUNCHER, ['experiment', '--help'])).stdout;
    const helpText = Buffer.from(help, 'latin1').toString('utf8').replace(/\s+/g, ' ');
    const rfc = text.split('\n').find((l) => l.includes('W/o patch'))!;
    const cells = text.split('\n').find((l) => l.startsWith('cell '))!;
    const headings = [
      ...rfc.split('|').flatMap((part) => part.trim().split(/\s{2,}/)),
      ...cells.trim().split(/\s{2,}/),
    ].filter((h) => h !== '');
    expect(headings.length).toBeGreaterThan(15);
    // A heading may be several names at once ("T/T_A1 base sim/RFC"): each must be defined.
    const names = headings.flatMap((h) =>
      h
        .replace(/\(.*?\)/g, (m) => ` ${m.slice(1, -1)} `)
        .split(/\s+|, /)
        .filter((w) => w !== '' && !['/', 'sim/RFC', 'first'].includes(w)),
    );
    for (const name of names) expect(helpText, `column '${name}'`).toContain(name);
  });
});
