import { afterAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, LAUNCHER, run, waitFor } from './harness';

describeFuse(
  'mount --lockstep: whole steps on a wall-clock schedule, for agents that rate per wall second',
  () => {
    afterAll(async () => {
      expect(await cleanupAll()).toEqual([]);
    });

    it('the files change only by whole steps, and each step is what a headless run of that long prints', async () => {
      const d = await Daemon.start(['--lockstep', '1s', '--seed', '11']);
      expect(d.output).toContain('lockstep: 1s of simulated time at once every 1s');
      const seen = new Set<number>();
      const takenAt = new Map<number, string>();
      // Read as an agent does, many times per step: a reader never sees a step part of the way.
      await waitFor(
        async () => {
          // The clock, then taken, then the clock again, one after another: taken belongs to
          // that simulated time only when the clock did not move between the two readings (read
          // at once, taken could be read before the first reading of the clock, a step earlier).
          const ns = Number(await cat(d.path('pvlockfs/sim_time_ns')));
          const taken = await cat(d.path('kvm/spinlocks/taken'));
          seen.add(ns);
          if (Number(await cat(d.path('pvlockfs/sim_time_ns'))) === ns)
            takenAt.set(ns, taken.trim());
          return ns >= 3e9 && takenAt.has(2e9) && takenAt.has(3e9);
        },
        120_000,
        'three lock-steps of 1 simulated s, each read between steps',
      );
      for (const ns of seen) expect(ns % 1e9, `simulated time ${ns}`).toBe(0);
      for (const s of [2, 3]) {
        const headless = await run(LAUNCHER, ['run', '--seed', '11', '--sim-time', `${s}s`], {
          timeoutMs: 120_000,
        });
        expect(takenAt.get(s * 1e9)).toBe(
          /^kvm\/spinlocks\/taken:(\d+)$/m.exec(headless.stdout)![1],
        );
      }
      expect(await d.stop()).toBe(0);
    }, 300_000);

    it('refuses a step shorter than 1 ms or longer than 10 minutes', async () => {
      for (const bad of ['999us', '11m']) {
        const r = await run(LAUNCHER, ['mount', '/nonexistent', '--lockstep', bad]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(
          /^pvlockfs: --lockstep: at (least 1.0 ms|most 600.00 s of simulated time) \(got (999us|11m)\)\n/,
        );
      }
    });
  },
);
