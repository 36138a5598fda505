import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHER, ROOT, run, waitFor } from './harness';

// Experiments as plans of indexed cells (README, "Running on a cluster"): planned here, run
// through a real single-node Slurm (scripts/slurm-single-node installs and starts it, and stops
// it afterwards), collected, and compared with a local run of the same options.

const SLURM = join(ROOT, 'scripts', 'slurm-single-node');
const SWEEP = join(ROOT, 'docs', 'recipes', 'slurm-sweep.sh');

/** The harness reads output as latin1: the text as UTF-8. */
const utf8 = (s: string): string => Buffer.from(s, 'latin1').toString('utf8');

/** results.json without its wall times (the one thing a collected report may differ in). */
const withoutWall = (text: string): string => text.replace(/"wall_ms":\s*\d+/g, '"wall_ms":0');

let work: string;
let slurmDir: string;
let slurmEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pvlockfs-cluster-'));
  slurmDir = join(work, 'slurm');
  const r = await run(SLURM, ['start', slurmDir], { timeoutMs: 900_000 });
  // No skip: a machine that cannot install or start Slurm fails here, saying why.
  expect(r.code, `scripts/slurm-single-node start: ${r.stderr}`).toBe(0);
  slurmEnv = { ...process.env, SLURM_CONF: join(slurmDir, 'slurm.conf') };
}, 900_000);

afterAll(async () => {
  if (slurmDir !== undefined) await run(SLURM, ['stop', slurmDir], { timeoutMs: 120_000 });
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
}, 150_000);

describe('experiments on a cluster: a plan through a real Slurm', () => {
  it("the default RFC matrix as a Slurm array job: results.json equals the local run's byte for byte apart from wall times", async () => {
    const plan = join(work, 'rfc-plan');
    const sub = await run(SWEEP, [plan, '2'], {
      timeoutMs: 120_000,
      // 2 array tasks (the node's 2 CPUs), each running every other cell (--stride 2): every
      // cell through Slurm.
      env: { ...slurmEnv, PVLOCKFS: LAUNCHER, TASKS: '2' },
    });
    expect(sub.code, sub.stderr).toBe(0);
    const plan0 = JSON.parse(readFileSync(join(plan, 'plan.json'), 'utf8')) as { cells: unknown[] };
    // 12 cells × 2 locks × 3 repetitions.
    expect(plan0.cells).toHaveLength(72);
    const collected = join(plan, 'collect.out');
    await waitFor(
      async () =>
        existsSync(join(plan, 'collect.err')) &&
        (await run('squeue', ['-h'], { env: slurmEnv, timeoutMs: 30_000 })).stdout.trim() === '',
      600_000,
      'the array job and its collect job to leave the queue (squeue empty, collect.out written)',
    );
    expect(readdirSync(plan).filter((n) => /^cell-\d{6}\.json$/.test(n))).toHaveLength(72);
    const local = join(work, 'rfc-local');
    const l = await run(LAUNCHER, ['experiment', '--out', local], { timeoutMs: 300_000 });
    expect(l.code, l.stderr).toBe(0);
    const a = readFileSync(join(plan, 'results.json'), 'utf8');
    const b = readFileSync(join(local, 'results.json'), 'utf8');
    expect(withoutWall(a)).toBe(withoutWall(b));
    for (const f of ['times.svg', 'histograms.svg', 'timeline-B2-ticket.svg', 'report.md'])
      expect(readFileSync(join(plan, f), 'utf8'), f).toBe(readFileSync(join(local, f), 'utf8'));
    // The table the collect job printed is the local run's (its last line holds the wall time).
    const table = readFileSync(collected, 'utf8').split('\n');
    const localTable = utf8(l.stdout).split('\n');
    expect(table.slice(0, -2).join('\n')).toBe(localTable.slice(0, -2).join('\n'));
    expect(table.at(-2)).toMatch(/; wall time [\d.]+ s$/);
  }, 900_000);
});
