import { afterAll, beforeAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, run, waitFor } from './harness';

const FILES: [string, string][] = [
  ['histo_blocked', '444'],
  ['released_slow', '444'],
  ['released_slow_kicked', '444'],
  ['taken_slow', '444'],
  ['taken_slow_pickup', '444'],
  ['time_blocked', '444'],
  ['zero_stats', '644'],
];

describeFuse(
  '--lock pv-ticket mounts the 3.12 layout kvm-guest/spinlocks (docs/debugfs.md §5)',
  () => {
    let d: Daemon;
    beforeAll(async () => {
      d = await Daemon.start(['--lock', 'pv-ticket', '--speed', '4']);
    });
    afterAll(async () => {
      expect(await cleanupAll()).toEqual([]);
    });

    it('lists exactly its files, with their modes, size 0', async () => {
      expect((await run('ls', ['-A', d.mnt])).stdout).toBe('kvm-guest\npvlockfs\n');
      expect((await run('ls', ['-A', d.path('kvm-guest/spinlocks')])).stdout).toBe(
        `${FILES.map(([n]) => n).join('\n')}\n`,
      );
      for (const [name, mode] of FILES) {
        expect(
          (await run('stat', ['-c', '%a %s %h', d.path(`kvm-guest/spinlocks/${name}`)])).stdout,
          name,
        ).toBe(`${mode} 0 1\n`);
      }
    });

    it('reads in the kernel formats and counts slow paths and kicks', async () => {
      await waitFor(
        async () => Number(await cat(d.path('kvm-guest/spinlocks/taken_slow'))) > 0,
        60_000,
        'a slow path to be counted',
      );
      for (const [name] of FILES) {
        const text = await cat(d.path(`kvm-guest/spinlocks/${name}`));
        expect(text, name).toMatch(name === 'histo_blocked' ? /^\d+( \d+){30}\n$/ : /^\d+\n$/);
      }
      expect(Number(await cat(d.path('kvm-guest/spinlocks/taken_slow')))).toBeGreaterThan(0);
    });

    it('zero_stats resets lazily; read-only files refuse root with EACCES, the histogram with EINVAL', async () => {
      expect(
        (await run('sh', ['-c', 'echo 1 > "$1"', 'sh', d.path('kvm-guest/spinlocks/zero_stats')]))
          .code,
      ).toBe(0);
      const ro = await run('bash', [
        '-c',
        'echo 1 > "$1"',
        'bash',
        d.path('kvm-guest/spinlocks/taken_slow'),
      ]);
      expect(ro.stderr).toMatch(/Permission denied/);
      const arr = await run('bash', [
        '-c',
        'echo 1 > "$1"',
        'bash',
        d.path('kvm-guest/spinlocks/histo_blocked'),
      ]);
      expect(arr.stderr).toMatch(/Invalid argument/);
      expect(await cat(d.path('pvlockfs/config'))).toMatch(/^layout=kvm-guest-3\.12$/m);
    });
  },
);
