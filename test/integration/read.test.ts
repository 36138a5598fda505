import { afterAll, beforeAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, py, run, sh, waitFor } from './harness';

const ARRAY = /^(0|[1-9]\d*)( (0|[1-9]\d*)){30}\n$/;
const NUMBER = /^(0|[1-9]\d*)\n$/;
const FORMATS: [string, RegExp][] = [
  ['zero_stats', NUMBER],
  ['timeout', /^1024\n$/],
  ['taken', NUMBER],
  ['taken_slow', NUMBER],
  ['released', NUMBER],
  ['time_spinning', NUMBER],
  ['time_blocked', NUMBER],
  ['time_total', NUMBER],
  ['histo_total', ARRAY],
  ['histo_spinning', ARRAY],
  ['histo_blocked', ARRAY],
];

// Reads one file with a single read() of a fresh fd, then the same with pread at offset 5.
const PREAD = `
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    os.pread(fd, 100, 5)
    print("no error")
except OSError as e:
    print(e.errno)
print(os.read(fd, 4096).decode())
`;

describeFuse('reading the files (docs/debugfs.md §2, §3)', () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await Daemon.start();
  });
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it.each(FORMATS)('cat %s gives the exact format', async (name, re) => {
    expect(await cat(d.path(`kvm/spinlocks/${name}`))).toMatch(re);
  });

  it('an all-zero histogram is 31 zeros, single spaces, one newline: 62 bytes', async () => {
    // Under the running pv guest the blocked histogram's top buckets stay zero; the format is
    // checked on the tail of the text, and the all-zero length on the ticket guest below.
    const t = await Daemon.start(['--lock', 'ticket']);
    const text = await cat(t.path('kvm/spinlocks/histo_blocked'));
    expect(text).toBe(`${Array(31).fill('0').join(' ')}\n`);
    expect(text.length).toBe(62);
    await t.cleanup();
  });

  it('dd bs=1 returns the same bytes as one read() of a fresh fd (snapshot per open)', async () => {
    await sh('echo 0 > "$1"', d.path('pvlockfs/running'));
    for (const f of ['taken', 'histo_total', 'time_total']) {
      const one = await cat(d.path(`kvm/spinlocks/${f}`));
      const dd = await run('dd', [`if=${d.path(`kvm/spinlocks/${f}`)}`, 'bs=1', 'status=none']);
      expect(dd.stdout).toBe(one);
    }
    await sh('echo 1 > "$1"', d.path('pvlockfs/running'));
    // While the guest runs, byte-at-a-time reads still see one consistent number.
    const dd = await run('dd', [`if=${d.path('kvm/spinlocks/taken')}`, 'bs=1', 'status=none']);
    expect(dd.stdout).toMatch(NUMBER);
  });

  it('pread at offset 5 on a fresh fd is ESPIPE; a read at the position still works', async () => {
    const r = await py(PREAD, d.path('kvm/spinlocks/timeout'));
    expect(r.stdout).toBe('29\n1024\n\n');
    // dd's skip cannot seek a non-seekable file (ESPIPE), so it reads past the bytes instead:
    // on the kernel's debugfs the same.
    const skip = await run('dd', [
      `if=${d.path('kvm/spinlocks/timeout')}`,
      'bs=1',
      'skip=2',
      'count=2',
      'status=none',
    ]);
    expect([skip.code, skip.stdout, skip.stderr]).toEqual([0, '24', '']);
  });

  it('grep -r . prints all 11 files, one line each', async () => {
    const r = await run('grep', ['-r', '.', d.path('kvm/spinlocks')]);
    const names = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.slice(d.path('kvm/spinlocks/').length).split(':')[0])
      .sort();
    expect(names).toEqual(FORMATS.map(([n]) => n).sort());
  });

  it('counters move between two reads at speed 1', async () => {
    const first = Number(await cat(d.path('kvm/spinlocks/taken')));
    await waitFor(
      async () => Number(await cat(d.path('kvm/spinlocks/taken'))) > first,
      30_000,
      'taken to grow',
    );
    // The simulated clock moves too (awaited, not judged after a wall-clock window).
    const t1 = BigInt((await cat(d.path('pvlockfs/sim_time_ns'))).trim());
    await waitFor(
      async () => BigInt((await cat(d.path('pvlockfs/sim_time_ns'))).trim()) > t1,
      30_000,
      'sim_time_ns to advance',
    );
  });

  it('the control directory reads like the rest', async () => {
    expect(await cat(d.path('pvlockfs/seed'))).toBe('20100726\n');
    expect(await cat(d.path('pvlockfs/hogs'))).toBe('4\n');
    expect(await cat(d.path('pvlockfs/running'))).toBe('1\n');
    const config = await cat(d.path('pvlockfs/config'));
    expect(config).toMatch(/^lock=pv-yield$/m);
    expect(config).toMatch(/^abi=modern$/m);
    expect(
      config
        .split('\n')
        .slice(0, -1)
        .every((l) => /^[A-Za-z]\w*=\S*$/.test(l)),
    ).toBe(true);
  });
});
