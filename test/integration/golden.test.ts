import { afterAll, expect, it } from 'vitest';
import { cleanupAll, Daemon, describeFuse, LAUNCHER, run } from './harness';

/**
 * Golden outputs through the real CLI and a real mount (see test/unit/golden.test.ts): the
 * experiment's JSON for a small matrix with every lock, and `grep -r .` of a paused mount of each
 * layout after exactly 250 simulated ms. Updated only by a deliberate model change (`-u`).
 */
describeFuse('golden outputs of experiment --json and of a stepped mount of each layout', () => {
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it('experiment --json, a small matrix with every lock', async () => {
    const r = await run(
      LAUNCHER,
      [
        'experiment',
        '--scenarios',
        'A,C',
        '--overcommit',
        '1,3',
        '--reps',
        '1',
        '--work',
        '200ms',
        '--locks',
        'ticket,pv-yield,pv-ticket,directed-yield,xen-block,pv-qspinlock',
        '--jobs',
        '2',
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(Buffer.from(r.stdout, 'latin1').toString('utf8')) as Record<
      string,
      unknown
    >;
    delete json.wall_ms;
    await expect(`${JSON.stringify(json, null, 1)}\n`).toMatchFileSnapshot(
      '../golden/experiment.json',
    );
  });

  it.each([
    ['kvm-2010', 'pv-yield'],
    ['xen-2.6.35', 'xen-block'],
    ['kvm-guest-3.12', 'pv-ticket'],
    ['qlockstat', 'pv-qspinlock'],
  ])('layout %s (%s): grep -r . after 250 simulated ms', async (layout, lock) => {
    const d = await Daemon.start([
      '--paused',
      '--lock',
      lock,
      '--pinning',
      'C',
      '--overcommit',
      '3',
      '--seed',
      '5',
    ]);
    const step = await run(
      'bash',
      ['-c', 'echo 250000000 > "$1"', 'bash', d.path('pvlockfs/advance_ns')],
      { timeoutMs: 60_000 },
    );
    expect(step.code, step.stderr).toBe(0);
    // The statistics and the simulated time; pvlockfs/config names the mount's options, not the model.
    const r = await run(
      'grep',
      [
        '-r',
        '.',
        '.',
        '--exclude=config',
        '--exclude=advance_ns',
        '--exclude=reset_counters',
        // The timeline recorder's controls describe the mount, not the model.
        '--exclude=trace_ns',
        '--exclude=trace_status',
        // So do the fault-injection controls (docs/faults.md).
        '--exclude-dir=fault',
      ],
      { cwd: d.mnt },
    );
    expect(r.code, r.stderr).toBe(0);
    await expect(`${r.stdout.split('\n').filter(Boolean).sort().join('\n')}\n`).toMatchFileSnapshot(
      `../golden/mount-${layout}.txt`,
    );
    expect(await d.stop()).toBe(0);
  });

  it('pv-hybrid (4.15) keeps the qlockstat files, and a stepped mount shows what run --json computes', async () => {
    const opts = ['--lock', 'pv-hybrid', '--pinning', 'C', '--overcommit', '3', '--seed', '5'];
    const d = await Daemon.start(['--paused', ...opts]);
    const step = await run(
      'bash',
      ['-c', 'echo 250000000 > "$1"', 'bash', d.path('pvlockfs/advance_ns')],
      { timeoutMs: 60_000 },
    );
    expect(step.code, step.stderr).toBe(0);
    const r = await run('grep', ['-r', '.', 'qlockstat', '--exclude=reset_counters'], {
      cwd: d.mnt,
    });
    expect(r.code, r.stderr).toBe(0);
    const mounted = Object.fromEntries(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf(':')), `${l.slice(l.indexOf(':') + 1)}\n`]),
    );
    expect(await d.stop()).toBe(0);
    const j = await run(LAUNCHER, ['run', ...opts, '--sim-time', '250ms', '--json'], {
      timeoutMs: 60_000,
    });
    expect(j.code, j.stderr).toBe(0);
    const files = (JSON.parse(j.stdout) as { files: Record<string, string> }).files;
    const expected = Object.fromEntries(
      Object.entries(files).filter(
        ([k]) => k.startsWith('qlockstat/') && k !== 'qlockstat/reset_counters',
      ),
    );
    expect(Object.keys(expected).length).toBe(13);
    expect(mounted).toEqual(expected);
  });
});
