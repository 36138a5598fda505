import { afterAll, beforeAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, run, sh } from './harness';

const SPINLOCKS: [string, string][] = [
  ['histo_blocked', '444'],
  ['histo_spinning', '444'],
  ['histo_total', '444'],
  ['released', '444'],
  ['taken', '444'],
  ['taken_slow', '444'],
  ['time_blocked', '444'],
  ['time_spinning', '444'],
  ['time_total', '444'],
  ['timeout', '644'],
  ['zero_stats', '644'],
];

describeFuse('the tree, as ls and stat see it (docs/debugfs.md §1)', () => {
  let modern: Daemon;
  let old: Daemon;
  beforeAll(async () => {
    [modern, old] = await Promise.all([Daemon.start(), Daemon.start(['--abi', '2.6.35'])]);
  });
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it('root: mode 0700 (modern) or 0755 (2.6.35), nlink 2 + subdirectories, owned by root', async () => {
    expect((await run('stat', ['-c', '%f %a %h %u %g', modern.mnt])).stdout).toBe(
      '41c0 700 4 0 0\n',
    );
    expect((await run('stat', ['-c', '%f %a %h %u %g', old.mnt])).stdout).toBe('41ed 755 4 0 0\n');
  });

  it('lists exactly the names of docs/debugfs.md §1', async () => {
    expect((await run('ls', ['-A', modern.mnt])).stdout).toBe('kvm\npvlockfs\n');
    expect((await run('ls', ['-A', modern.path('kvm')])).stdout).toBe('spinlocks\n');
    expect((await run('ls', ['-A', modern.path('kvm/spinlocks')])).stdout).toBe(
      `${SPINLOCKS.map(([n]) => n).join('\n')}\n`,
    );
    expect((await run('ls', ['-A', modern.path('pvlockfs')])).stdout).toBe(
      'advance_ns\nconfig\nfault\nhogs\nholder_preempted_ns\nrunning\nseed\nsim_time_ns\ntrace_ns\ntrace_status\n',
    );
  });

  it('directories are 0755 with nlink 2 + subdirectories', async () => {
    const r = await run('stat', [
      '-c',
      '%n %A %h',
      modern.path('kvm'),
      modern.path('kvm/spinlocks'),
      modern.path('pvlockfs'),
    ]);
    expect(r.stdout).toBe(
      `${modern.path('kvm')} drwxr-xr-x 3\n${modern.path('kvm/spinlocks')} drwxr-xr-x 2\n${modern.path('pvlockfs')} drwxr-xr-x 3\n`,
    );
  });

  it.each(SPINLOCKS)(
    '%s: regular, mode %s, size 0, blocks 0, blksize 4096, nlink 1, root:root',
    async (name, mode) => {
      const r = await run('stat', [
        '-c',
        '%F|%a|%s|%b|%o|%h|%u|%g',
        modern.path(`kvm/spinlocks/${name}`),
      ]);
      expect(r.stdout).toBe(`regular empty file|${mode}|0|0|4096|1|0|0\n`);
    },
  );

  it('ls -l shows the modes and size 0', async () => {
    const r = await run('ls', ['-l', modern.path('kvm/spinlocks')]);
    const lines = r.stdout.trim().split('\n').slice(1);
    expect(lines.map((l) => l.split(/\s+/).slice(0, 5).join(' '))).toEqual(
      SPINLOCKS.map(([, m]) => `${m === '644' ? '-rw-r--r--' : '-r--r--r--'} 1 root root 0`),
    );
  });

  it('direct_io is in effect: a size-0 file still reads its whole content with cat', async () => {
    expect((await run('stat', ['-c', '%s', modern.path('kvm/spinlocks/timeout')])).stdout).toBe(
      '0\n',
    );
    expect(await cat(modern.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    const mounts = await run('cat', ['/proc/mounts']);
    const line = mounts.stdout.split('\n').find((l) => l.split(' ')[1] === modern.mnt) ?? '';
    expect(line.split(' ').slice(0, 3)).toEqual(['pvlockfs', modern.mnt, 'fuse.pvlockfs']);
    expect(line).toMatch(/default_permissions/);
    expect(line).toMatch(/allow_other/);
  });

  it('read and write keep timestamps; O_TRUNC (the shell >) sets mtime and ctime only', async () => {
    const f = old.path('kvm/spinlocks/timeout');
    const times = async (): Promise<number[]> =>
      (await run('stat', ['-c', '%X %Y %Z', f])).stdout.trim().split(' ').map(Number);
    const t0 = await times();
    await new Promise((r) => setTimeout(r, 1100));
    await cat(f);
    await run('python3', [
      '-c',
      'import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY); os.write(fd, b"1024"); os.close(fd)',
      f,
    ]);
    expect(await times()).toEqual(t0);
    expect((await sh('echo 1024 > "$1"', f)).code).toBe(0);
    const t1 = await times();
    expect(t1[0]).toBe(t0[0]);
    expect(t1[1]).toBeGreaterThan(t0[1]);
    expect(t1[2]).toBeGreaterThan(t0[2]);
  });
});
