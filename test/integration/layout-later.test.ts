import { afterAll, beforeAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, expectLayout, py, run, waitFor } from './harness';

const XEN: [string, string][] = [
  ['histo_blocked', '444'],
  ['histo_spinning', '444'],
  ['histo_total', '444'],
  ['released', '444'],
  ['released_slow', '444'],
  ['released_slow_kicked', '444'],
  ['taken', '444'],
  ['taken_slow', '444'],
  ['taken_slow_irqenable', '444'],
  ['taken_slow_nested', '444'],
  ['taken_slow_pickup', '444'],
  ['taken_slow_spurious', '444'],
  ['time_blocked', '444'],
  ['time_spinning', '444'],
  ['time_total', '444'],
  ['timeout', '644'],
  ['zero_stats', '644'],
];

const QLOCKSTAT: [string, string][] = [
  ['lock_pending', '400'],
  ['lock_slowpath', '400'],
  ['pv_hash_hops', '400'],
  ['pv_kick_unlock', '400'],
  ['pv_kick_wake', '400'],
  ['pv_latency_kick', '400'],
  ['pv_latency_wake', '400'],
  ['pv_lock_stealing', '400'],
  ['pv_spurious_wakeup', '400'],
  ['pv_wait_again', '400'],
  ['pv_wait_early', '400'],
  ['pv_wait_head', '400'],
  ['pv_wait_node', '400'],
  ['reset_counters', '200'],
];

const AS_NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups', '--'];

describeFuse(
  '--lock xen-block mounts the Xen 2.6.35 layout xen/spinlocks (docs/debugfs.md §5)',
  () => {
    let d: Daemon;
    beforeAll(async () => {
      d = await Daemon.start([
        '--lock',
        'xen-block',
        '--pinning',
        'C',
        '--overcommit',
        '3',
        '--speed',
        '4',
      ]);
    });
    afterAll(async () => {
      expect(await cleanupAll()).toEqual([]);
    });

    it('lists exactly its files, with their modes, size 0', async () => {
      await expectLayout(d, 'pvlockfs\nxen\n', 'xen/spinlocks', XEN);
    });

    it('reads in the kernel formats; blocks and kicks are counted; non-seekable like the RFC files', async () => {
      await waitFor(
        async () =>
          Number(await cat(d.path('xen/spinlocks/taken_slow'))) > 0 &&
          Number(await cat(d.path('xen/spinlocks/released_slow_kicked'))) > 0,
        60_000,
        'a slow path and a kick to be counted',
      );
      for (const [name] of XEN) {
        const text = await cat(d.path(`xen/spinlocks/${name}`));
        expect(text, name).toMatch(name.startsWith('histo_') ? /^\d+( \d+){30}\n$/ : /^\d+\n$/);
      }
      expect(Number(await cat(d.path('xen/spinlocks/taken_slow')))).toBeGreaterThan(0);
      expect(Number(await cat(d.path('xen/spinlocks/released_slow_kicked')))).toBeGreaterThan(0);
      const pread = await py(
        'import os,sys\nfd=os.open(sys.argv[1],os.O_RDONLY)\ntry:\n  os.pread(fd,10,3)\nexcept OSError as e:\n  print(e.errno)',
        d.path('xen/spinlocks/taken'),
      );
      expect(pread.stdout).toBe('29\n');
    });

    it('the knobs behave as in the RFC layout; read-only files refuse root with EACCES, histograms with EINVAL', async () => {
      expect(
        (await run('sh', ['-c', 'echo 4294967295 > "$1"', 'sh', d.path('xen/spinlocks/timeout')]))
          .code,
      ).toBe(0);
      expect(await cat(d.path('xen/spinlocks/timeout'))).toBe('4294967295\n');
      expect(
        (await run('bash', ['-c', 'echo 0x > "$1"', 'bash', d.path('xen/spinlocks/timeout')]))
          .stderr,
      ).toMatch(/Invalid argument/);
      expect(
        (await run('sh', ['-c', 'echo 1 > "$1"', 'sh', d.path('xen/spinlocks/zero_stats')])).code,
      ).toBe(0);
      expect(
        (
          await run('bash', [
            '-c',
            'echo 1 > "$1"',
            'bash',
            d.path('xen/spinlocks/taken_slow_pickup'),
          ])
        ).stderr,
      ).toMatch(/Permission denied/);
      expect(
        (await run('bash', ['-c', 'echo 1 > "$1"', 'bash', d.path('xen/spinlocks/histo_total')]))
          .stderr,
      ).toMatch(/Invalid argument/);
      expect(await cat(d.path('pvlockfs/config'))).toMatch(/^layout=xen-2\.6\.35$/m);
    });
  },
);

describeFuse('--lock pv-qspinlock mounts the 4.5+ layout qlockstat (docs/debugfs.md §5)', () => {
  let d: Daemon;
  let old: Daemon;
  beforeAll(async () => {
    d = await Daemon.start([
      '--lock',
      'pv-qspinlock',
      '--pinning',
      'C',
      '--overcommit',
      '3',
      '--speed',
      '4',
    ]);
    old = await Daemon.start(['--lock', 'pv-qspinlock', '--abi', '2.6.35']);
  });
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it('lists the 13 counters 0400 and reset_counters 0200, size 0', async () => {
    await expectLayout(d, 'pvlockfs\nqlockstat\n', 'qlockstat', QLOCKSTAT);
  });

  it('counters read "%llu\\n" (pv_hash_hops "%llu.%02llu\\n"), summed at every read, seekable', async () => {
    await waitFor(
      async () => Number(await cat(d.path('qlockstat/lock_slowpath'))) > 0,
      60_000,
      'a slow path to be counted',
    );
    // The text is computed afresh at every read(), as the kernel's qstat_read does, so cat's second
    // read (at the end offset) of a counter that just grew a digit returns its last byte: on a
    // running guest "99\n" can read as "99\n\n". The formats are checked on a paused guest.
    const running = async (v: string): Promise<void> => {
      expect(
        (await run('sh', ['-c', 'echo "$1" > "$2"', 'sh', v, d.path('pvlockfs/running')])).code,
      ).toBe(0);
    };
    await running('0');
    for (const [name] of QLOCKSTAT.slice(0, 13)) {
      expect(await cat(d.path(`qlockstat/${name}`)), name).toMatch(
        name === 'pv_hash_hops' ? /^\d+\.\d{2,3}\n$/ : /^\d+\n$/,
      );
    }
    expect(await cat(d.path('qlockstat/lock_pending'))).toBe('0\n');
    expect(Number(await cat(d.path('qlockstat/lock_slowpath')))).toBeGreaterThan(0);
    await running('1');
    // One open file, the guest paused: pread at 1 serves the text from its second byte; after the
    // guest ran on, a read at 0 on the same file is fresh (no snapshot).
    const r = await py(
      [
        'import os,sys,time',
        'def knob(v):',
        '  with open(sys.argv[2],"w") as f: f.write(v)',
        'fd=os.open(sys.argv[1],os.O_RDONLY)',
        'knob("0")',
        'a=os.pread(fd,64,0).decode(); b=os.pread(fd,64,1).decode()',
        'knob("1")',
        'for _ in range(1500):',
        '  if os.pread(fd,64,0).decode() != a: break',
        '  time.sleep(0.02)',
        'c=os.pread(fd,64,0).decode()',
        'print(a.strip(), repr(b), c.strip())',
      ].join('\n'),
      d.path('qlockstat/lock_slowpath'),
      d.path('pvlockfs/running'),
    );
    expect(r.code, r.stderr).toBe(0);
    const [a, b, c] = r.stdout.trim().split(' ');
    expect(b).toBe(`'${a.slice(1)}\\n'`);
    expect(Number(c)).toBeGreaterThan(Number(a));
  });

  it('reset_counters: read fails with EBADF; any write clears every counter; writes to counters are ignored', async () => {
    expect((await run('cat', [d.path('qlockstat/reset_counters')])).stderr).toMatch(
      /Bad file descriptor/,
    );
    const ignored = await run('sh', [
      '-c',
      'echo 0 > "$1" && echo written',
      'sh',
      d.path('qlockstat/lock_slowpath'),
    ]);
    expect(ignored.stdout).toBe('written\n');
    expect(Number(await cat(d.path('qlockstat/lock_slowpath')))).toBeGreaterThan(0);
    // Pause the guest so that nothing counts between the reset and the reads.
    expect((await run('sh', ['-c', 'echo 0 > "$1"', 'sh', d.path('pvlockfs/running')])).code).toBe(
      0,
    );
    expect(
      (
        await run('sh', [
          '-c',
          'printf "anything at all" > "$1"',
          'sh',
          d.path('qlockstat/reset_counters'),
        ])
      ).code,
    ).toBe(0);
    for (const [name] of QLOCKSTAT.slice(0, 13))
      expect(await cat(d.path(`qlockstat/${name}`)), name).toBe(
        name === 'pv_hash_hops' ? '0.00\n' : '0\n',
      );
    expect((await run('sh', ['-c', 'echo 1 > "$1"', 'sh', d.path('pvlockfs/running')])).code).toBe(
      0,
    );
    expect(await cat(d.path('pvlockfs/config'))).toMatch(/^layout=qlockstat$/m);
  });

  it('non-root: no read of the 0400 counters, no write to reset_counters (2.6.35 root is 0755)', async () => {
    const rd = await run('setpriv', [...AS_NOBODY, 'cat', old.path('qlockstat/lock_slowpath')]);
    expect(rd.stderr).toMatch(/Permission denied/);
    const wr = await run('setpriv', [
      ...AS_NOBODY,
      'sh',
      '-c',
      'echo 1 > "$1"',
      'sh',
      old.path('qlockstat/reset_counters'),
    ]);
    expect(wr.stderr).toMatch(/Permission denied/);
    expect((await run('setpriv', [...AS_NOBODY, 'ls', old.path('qlockstat')])).code).toBe(0);
  });
});
