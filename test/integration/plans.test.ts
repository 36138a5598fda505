import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHER, ROOT, run, waitFor } from './harness';

// Experiments as plans of indexed cells (README, "Running on a cluster"), without a scheduler:
// cells run as the commands an array task runs, killed, rerun and collected, and the refusals.
// (cluster.test.ts runs a plan through a real Slurm.)

/** The harness reads output as latin1: the text as UTF-8. */
const utf8 = (s: string): string => Buffer.from(s, 'latin1').toString('utf8');

/** A refusal's lines (a plan's refusals are one line, without the usage hint). */
const refusal = (stderr: string): string[] => utf8(stderr).trim().split('\n');

/** results.json without its wall times (the one thing a collected report may differ in). */
const withoutWall = (text: string): string => text.replace(/"wall_ms":\s*\d+/g, '"wall_ms":0');

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pvlockfs-plans-'));
});

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('experiments as plans: cells, collect, refusals', () => {
  it('a cell killed midway is named by collect, rerun alone, and the collected table is the local one', async () => {
    const opts = ['--scenarios', 'C', '--overcommit', '3', '--reps', '1', '--work', '60s'];
    const plan = join(work, 'killed');
    const p = await run(LAUNCHER, ['experiment', ...opts, '--plan', plan, '--json']);
    expect(p.code, p.stderr).toBe(0);
    // 1 cell × 2 locks, and the run of A-1x pv-yield the scale needs.
    expect(JSON.parse(p.stdout)).toMatchObject({ table: 'rfc', cells: 3 });
    for (const i of [0, 2]) {
      const c = await run(LAUNCHER, ['experiment', '--plan', plan, '--cell', String(i)], {
        timeoutMs: 120_000,
      });
      expect(c.code, c.stderr).toBe(0);
    }
    // Cell 1 is killed once it has computed for a while (its own CPU time, read from /proc).
    const child = spawn(LAUNCHER, ['experiment', '--plan', plan, '--cell', '1'], {
      stdio: 'ignore',
      detached: true,
    });
    const pid = child.pid as number;
    const cpuTicks = (): number => {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
        return Number(rest[11]) + Number(rest[12]);
      } catch {
        return 0;
      }
    };
    let comm = '';
    await waitFor(
      () => {
        try {
          comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
        } catch {
          comm = '';
        }
        return comm === 'node' && cpuTicks() >= 10;
      },
      120_000,
      'the cell to be computing (node, 0.1 s of CPU)',
    );
    process.kill(-pid, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(join(plan, 'cell-000001.json'))).toBe(false);
    const missing = await run(LAUNCHER, ['experiment', '--collect', plan]);
    expect(missing.code).toBe(1);
    expect(refusal(missing.stderr)).toHaveLength(1);
    expect(missing.stderr).toMatch(
      /1 of 3 cells have no result \(1\); run them with: for i in 1; do pvlockfs experiment --plan \S+ --cell \$i; done/,
    );
    expect(missing.stderr).toMatch(/sbatch --array=1 /);
    expect(missing.stdout).toBe('');
    const again = await run(LAUNCHER, ['experiment', '--plan', plan, '--cell', '1'], {
      timeoutMs: 120_000,
    });
    expect(again.code, again.stderr).toBe(0);
    const c = await run(LAUNCHER, ['experiment', '--collect', plan, '--json']);
    expect(c.code, c.stderr).toBe(0);
    const l = await run(LAUNCHER, ['experiment', ...opts, '--json'], { timeoutMs: 120_000 });
    expect(l.code, l.stderr).toBe(0);
    expect(withoutWall(c.stdout)).toBe(withoutWall(l.stdout));
    // A cell run twice writes the same bytes.
    const before = readFileSync(join(plan, 'cell-000002.json'), 'utf8');
    const twice = await run(LAUNCHER, ['experiment', '--plan', plan, '--cell', '2'], {
      timeoutMs: 120_000,
    });
    expect(twice.code, twice.stderr).toBe(0);
    expect(withoutWall(readFileSync(join(plan, 'cell-000002.json'), 'utf8'))).toBe(
      withoutWall(before),
    );
  }, 600_000);

  it('Long 2015 plans and collects too (an index from the scheduler picks the cell); the 2012 curves and the named experiments plan', async () => {
    const plan = join(work, 'long');
    const opts = ['--table', 'long2015', '--reps', '1', '--work', '2s'];
    expect((await run(LAUNCHER, ['experiment', ...opts, '--plan', plan])).code).toBe(0);
    // Three tasks, each given its index the way one scheduler does, running every third cell.
    const vars = ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX'];
    for (const [i, name] of vars.entries()) {
      const env = { ...process.env, [name]: String(i) };
      const c = await run(LAUNCHER, ['experiment', '--plan', plan, '--stride', '3'], {
        env,
        timeoutMs: 120_000,
      });
      expect(c.code, c.stderr).toBe(0);
    }
    const c = await run(LAUNCHER, ['experiment', '--collect', plan, '--json']);
    const l = await run(LAUNCHER, ['experiment', ...opts, '--json'], { timeoutMs: 120_000 });
    expect(c.code, c.stderr).toBe(0);
    expect(withoutWall(c.stdout)).toBe(withoutWall(l.stdout));
    // The 2012 curves plan their 864 cells (6 curves × 3 locks × 48 core counts).
    const cplan = join(work, 'collapse');
    const cp = await run(LAUNCHER, [
      'experiment',
      '--table',
      'collapse2012',
      '--plan',
      cplan,
      '--json',
    ]);
    expect(cp.code, cp.stderr).toBe(0);
    expect(JSON.parse(cp.stdout)).toMatchObject({ table: 'collapse2012', cells: 864 });
    // The named experiments are cells of the RFC plan too.
    const nplan = join(work, 'named');
    const np = await run(LAUNCHER, [
      'experiment',
      '--named',
      '--scenarios',
      'A',
      '--overcommit',
      '1',
      '--reps',
      '1',
      '--plan',
      nplan,
      '--json',
    ]);
    expect(np.code, np.stderr).toBe(0);
    expect((JSON.parse(np.stdout) as { cells: number }).cells).toBeGreaterThan(2 + 90);
  }, 900_000);

  it("the refit search's one-seed stage is a plan too: its cells run as any plan's, and experiment --collect sends it back to refit-search", async () => {
    const plan = join(work, 'refit');
    const r = await run(join(ROOT, 'scripts', 'refit-search'), ['1', '1', '--plan', plan], {
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    // The defaults and one candidate, each the RFC matrix at one seed (12 cells × 2 locks).
    const cells = (
      JSON.parse(readFileSync(join(plan, 'plan.json'), 'utf8')) as { cells: unknown[] }
    ).cells;
    expect(cells).toHaveLength(48);
    const c = await run(LAUNCHER, ['experiment', '--plan', plan, '--cell', '47']);
    expect(c.code, c.stderr).toBe(0);
    const wrong = await run(LAUNCHER, ['experiment', '--collect', plan]);
    expect(wrong.code).toBe(2);
    expect(refusal(wrong.stderr)[0]).toMatch(
      /this plan is a refit search's \(collect it with scripts\/refit-search --collect DIR\)/,
    );
    const early = await run(join(ROOT, 'scripts', 'refit-search'), ['--collect', plan], {
      timeoutMs: 60_000,
    });
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/47 of 48 cells have no result/);
  }, 300_000);

  it('refuses another version, a cell out of range, an existing plan and an unwritable directory: one line, nothing half-written', async () => {
    const plan = join(work, 'refusals');
    const opts = ['--scenarios', 'A', '--overcommit', '1', '--reps', '1', '--work', '1s'];
    expect((await run(LAUNCHER, ['experiment', ...opts, '--plan', plan])).code).toBe(0);
    const again = await run(LAUNCHER, ['experiment', ...opts, '--plan', plan]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a plan/);
    const out = await run(LAUNCHER, ['experiment', '--plan', plan, '--cell', '2']);
    expect(out.code).toBe(2);
    expect(refusal(out.stderr)).toEqual([
      'pvlockfs: --cell: 2 is not a cell of this plan (it has 2: 0–1)',
    ]);
    const env = { ...process.env, SLURM_ARRAY_TASK_ID: 'x1' };
    const bad = await run(LAUNCHER, ['experiment', '--plan', plan], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/SLURM_ARRAY_TASK_ID='x1' is not a cell index/);
    const extra = await run(LAUNCHER, ['experiment', '--plan', plan, '--cell', '0', '--reps', '2']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/--reps does not go with --cell/);
    // Another version: the plan says so, and nothing runs or is collected.
    const file = join(plan, 'plan.json');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/"version":"[^"]*"/, '"version":"0.0.1"'));
    for (const args of [
      ['experiment', '--plan', plan, '--cell', '0'],
      ['experiment', '--collect', plan],
    ]) {
      const r = await run(LAUNCHER, args);
      expect(r.code).toBe(2);
      expect(refusal(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(
        /the plan was made by pvlockfs 0\.0\.1 .* run and collect it with the pvlockfs that made it/,
      );
    }
    expect(readdirSync(plan).sort()).toEqual(['plan.json']);
    // An unwritable place (a read-only filesystem): exit 1, one line, no directory left half-made.
    const ro = join(work, 'ro');
    rmSync(ro, { recursive: true, force: true });
    await run('mkdir', [ro]);
    const m = await run('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'pvlockfs-ro', ro]);
    expect(m.code, m.stderr).toBe(0);
    try {
      const w = await run(LAUNCHER, ['experiment', ...opts, '--plan', join(ro, 'p')]);
      expect(w.code).toBe(1);
      expect(refusal(w.stderr)).toHaveLength(1);
      expect(w.stderr).toMatch(/--plan .*ro\/p: EROFS/);
      expect(readdirSync(ro)).toEqual([]);
    } finally {
      expect((await run('umount', [ro])).code).toBe(0);
    }
  }, 300_000);
});
