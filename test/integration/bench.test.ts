import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cat, describeFuse, ROOT, run, withTrivial } from './harness';

const BENCH = join(ROOT, 'scripts', 'bench');

/** A speed figure of the benchmark's JSON: a positive number of simulated s per wall s. */
function expectSpeed(
  row: { median_sim_s_per_wall_s: number; runs: unknown[] },
  runs: number,
): void {
  expect(row.median_sim_s_per_wall_s).toBeGreaterThan(0);
  expect(row.runs).toHaveLength(runs);
}

describe('scripts/bench sim', () => {
  it('runs every case, each in a process of its own, and prints their figures as JSON', async () => {
    const r = await run(BENCH, ['sim', '--runs', '1', '--sim-seconds', '0.2'], {
      timeoutMs: 120_000,
    });
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual([
      'node',
      'cpu',
      'default_pv_yield',
      'default_ticket',
      'curve_2x',
      'guests_8x8_on_32',
    ]);
    type Row = { median_sim_s_per_wall_s: number; runs: unknown[]; vcpus?: number };
    expectSpeed(out.default_pv_yield as Row, 1);
    expectSpeed(out.default_ticket as Row, 1);
    const curve = out.curve_2x as Row[];
    expect(curve.map((c) => c.vcpus)).toEqual([4, 16, 64]);
    for (const c of curve) expectSpeed(c, 1);
    const g8 = out.guests_8x8_on_32 as Row & { guests: number; vcpus_per_guest: number };
    expect([g8.guests, g8.vcpus_per_guest]).toEqual([8, 8]);
    expectSpeed(g8, 1);
    // One progress line per figure, on stderr.
    expect(r.stderr.match(/simulated s per wall s/g)).toHaveLength(6);
  });

  it('refuses a case that does not exist, and a bad option, with exit 2', async () => {
    const bad = await run(BENCH, ['sim-case', 'no_such_case']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no such case: no_such_case/);
    const opt = await run(BENCH, ['sim', '--runs', '0']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/--runs/);
  });
});

describeFuse("the read benchmark's trivial fuse-native daemon", () => {
  it('serves its one file and unmounts itself on SIGTERM (exit 0, nothing left mounted)', async () => {
    await withTrivial({}, async (mnt) => {
      expect(await cat(join(mnt, 'histo_total'))).toMatch(/^(\d+ ){30}\d+\n$/);
    });
  });
});
