import { afterAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, LAUNCHER, run } from './harness';

afterAll(async () => {
  expect(await cleanupAll()).toEqual([]);
});

const CFG = ['--lock', 'pv-ticket', '--overcommit', '3', '--preempt-hints', '--run-state'];

describeFuse("the RFC's solutions (b) and (c) on a mount: pvlockfs/solutions", () => {
  it('counts what run --json counts for the same guest and time; absent when both are off', async () => {
    const d = await Daemon.start(['--paused', ...CFG]);
    const plain = await Daemon.start(['--paused']);
    try {
      const w = await run(
        'bash',
        ['-c', 'echo 1000000000 > "$1"', 'bash', d.path('pvlockfs/advance_ns')],
        {
          timeoutMs: 60_000,
        },
      );
      expect(w.stderr).toBe('');
      const text = await cat(d.path('pvlockfs/solutions'));
      const r = await run(LAUNCHER, ['run', '--json', '--sim-time', '1s', ...CFG], {
        timeoutMs: 60_000,
      });
      const l = (JSON.parse(r.stdout) as { locks: Record<string, number> }).locks;
      expect(text).toBe(
        `hint_deferrals_granted=${l.hint_deferrals_granted}\nhint_deferrals_expired=${l.hint_deferrals_expired}\nhint_yields_on_release=${l.hint_yields_on_release}\nrun_state_stops=${l.run_state_stops}\n`,
      );
      expect(l.hint_deferrals_granted).toBeGreaterThan(0);
      expect(l.run_state_stops).toBeGreaterThan(0);
      expect((await run('ls', [plain.path('pvlockfs')])).stdout).not.toContain('solutions');
    } finally {
      await d.cleanup();
      await plain.cleanup();
    }
  });
});

describeFuse("the 2010 host's mechanisms on a mount: pvlockfs/mechanisms", () => {
  it('counts what run --json counts for the same guest and time; absent when every mechanism is off', async () => {
    const cfg = ['--overcommit', '3', '--shadow-paging', '--vfs-locks', '--ipi-under-lock'];
    const d = await Daemon.start(['--paused', ...cfg]);
    const plain = await Daemon.start(['--paused', '--no-vfs-locks']);
    try {
      const w = await run(
        'bash',
        ['-c', 'echo 1000000000 > "$1"', 'bash', d.path('pvlockfs/advance_ns')],
        { timeoutMs: 60_000 },
      );
      expect(w.stderr).toBe('');
      const text = await cat(d.path('pvlockfs/mechanisms'));
      const r = await run(LAUNCHER, ['run', '--json', '--sim-time', '1s', ...cfg], {
        timeoutMs: 60_000,
      });
      const l = (JSON.parse(r.stdout) as { locks: Record<string, number> }).locks;
      const keys = [
        'mmu_faults',
        'mmu_lock_wait_ns',
        'remote_tlb_flushes',
        'vfs_acquisitions',
        'vfs_contended',
        'resched_ipis_under_lock',
        'tlb_shootdowns_under_lock',
        'ipi_acks_deferred',
        'shootdown_wait_ns',
      ];
      expect(text).toBe(keys.map((k) => `${k}=${l[k]}\n`).join(''));
      for (const k of ['mmu_faults', 'vfs_acquisitions', 'tlb_shootdowns_under_lock'])
        expect(l[k], k).toBeGreaterThan(0);
      expect((await run('ls', [plain.path('pvlockfs')])).stdout).not.toContain('mechanisms');
    } finally {
      await d.cleanup();
      await plain.cleanup();
    }
  });
});
