import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WRITE_TABLE } from '../tables/write-table';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cat, cleanupAll, Daemon, describeFuse, LAUNCHER, py, ROOT, run, sh } from './harness';

/** Every entry under `dir`: path, type, mode, size, links (the timeline recorder's files left out). */
async function listing(dir: string): Promise<string> {
  const r = await run('find', [dir, '-mindepth', '1', '-printf', '%P %y %m %s %n %U %G\n']);
  expect(r.code).toBe(0);
  // The timeline recorder and fault injection (pvlockfs/fault/, docs/faults.md) are the mount's,
  // on the host's control directory: not part of what a guest root must match, nor the link
  // count fault/ adds to pvlockfs/.
  return r.stdout
    .split('\n')
    .filter((l) => l !== '' && !/^pvlockfs\/(trace_|fault)/.test(l))
    .map((l) => l.replace(/^(pvlockfs d \d+ \d+) \d+/, '$1 -'))
    .sort()
    .join('\n');
}

/**
 * For each row (hex bytes): `echo 77 >` the file, one raw write(2) of the bytes on a descriptor of
 * its own (its return value or errno name), then the file read to EOF: one string per row.
 */
const WRITE_ROWS = `
import errno, json, os, sys
path = sys.argv[1]
out = []
for hexed in sys.argv[2:]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.write(fd, b"77\\n")
    os.close(fd)
    fd = os.open(path, os.O_WRONLY)
    try:
        wrote = str(os.write(fd, bytes.fromhex(hexed)))
    except OSError as e:
        wrote = errno.errorcode[e.errno]
    os.close(fd)
    fd = os.open(path, os.O_RDONLY)
    text = b""
    while True:
        chunk = os.read(fd, 131072)
        if not chunk:
            break
        text += chunk
    os.close(fd)
    out.append(wrote + "\\n" + text.decode("latin1"))
print(json.dumps(out))
`;

async function writeRows(file: string, hexes: string[]): Promise<string[]> {
  const r = await py(WRITE_ROWS, file, ...hexes);
  if (r.code !== 0) throw new Error(`writing the table to ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

const GUESTS = ['--guest', 'a:lock=pv-yield', '--guest', 'b:lock=pv-yield,vcpus=2,weight=512'];

describeFuse('several guests on one mount: each DIR/NAME is a guest root, exactly', () => {
  let one: Daemon;
  let two: Daemon;
  let twoOld: Daemon;
  let oneOld: Daemon;
  beforeAll(async () => {
    [one, oneOld, two, twoOld] = await Promise.all([
      Daemon.start(['--paused']),
      Daemon.start(['--paused', '--abi', '2.6.35']),
      Daemon.start(['--paused', ...GUESTS]),
      Daemon.start(['--paused', '--abi', '2.6.35', ...GUESTS]),
    ]);
  });
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it('the mount root holds a directory per guest and the host controls', async () => {
    expect((await run('ls', ['-A', two.mnt])).stdout).toBe('a\nb\npvlockfs\n');
    expect((await run('ls', ['-A', two.path('pvlockfs')])).stdout).toBe(
      'advance_ns\nconfig\nfault\nguests\nhogs\nholder_preempted_ns\nrunning\nseed\nsim_time_ns\ntrace_ns\ntrace_status\n',
    );
    expect((await run('stat', ['-c', '%a', two.mnt, two.path('a'), twoOld.path('b')])).stdout).toBe(
      '700\n700\n755\n',
    );
  });

  it('each guest root lists exactly what a single-guest root lists: names, types, modes, sizes, links, owners', async () => {
    const single = await listing(one.mnt);
    expect(await listing(two.path('a'))).toBe(single);
    expect(await listing(two.path('b'))).toBe(single);
  });

  it('formats: every file reads as the single guest files do', async () => {
    for (const g of ['a', 'b']) {
      const root = two.path(g);
      expect(await cat(`${root}/kvm/spinlocks/timeout`)).toBe('1024\n');
      for (const f of ['taken', 'released', 'time_total', 'zero_stats'])
        expect(await cat(`${root}/kvm/spinlocks/${f}`)).toMatch(/^\d+\n$/);
      for (const f of ['histo_total', 'histo_spinning', 'histo_blocked'])
        expect(await cat(`${root}/kvm/spinlocks/${f}`)).toMatch(/^\d+( \d+){30}\n$/);
      expect(await cat(`${root}/pvlockfs/running`)).toBe('0\n');
    }
  });

  it('the write table gives the same result in a guest root as in a single-guest root (both ABIs)', async () => {
    // The whole table goes through one Python process per file (each row: `echo 77 >`, the raw
    // write on a descriptor of its own, then a read to EOF on another): the same system calls as
    // the shell, `cat` and a Python one-liner per row made, without ~11 process starts a row, which
    // did not fit the test's bound with both cores busy.
    const inputs = WRITE_TABLE.filter(([i]) => i !== '').map(([i]) => i);
    const hexes = inputs.map((i) => Buffer.from(i, 'latin1').toString('hex'));
    const [single, a, b, old] = await Promise.all(
      [
        one.path('kvm/spinlocks/timeout'),
        two.path('a/kvm/spinlocks/timeout'),
        two.path('b/kvm/spinlocks/timeout'),
        twoOld.path('a/kvm/spinlocks/timeout'),
      ].map((f) => writeRows(f, hexes)),
    );
    inputs.forEach((input, i) => {
      expect(a[i], JSON.stringify(input)).toBe(single[i]);
      expect(b[i], JSON.stringify(input)).toBe(single[i]);
      expect(old[i].split('\n')[0], JSON.stringify(input)).toBe(`${input.length}`); // 2.6.35 takes every write
    });
    expect(single).toHaveLength(inputs.length);
  });

  it("a guest's knobs act on that guest only", async () => {
    await sh('echo 7 > "$1"', two.path('a/kvm/spinlocks/timeout'));
    await sh('echo 1024 > "$1"', two.path('b/kvm/spinlocks/timeout'));
    expect(await cat(two.path('a/kvm/spinlocks/timeout'))).toBe('7\n');
    expect(await cat(two.path('b/kvm/spinlocks/timeout'))).toBe('1024\n');
    expect(await cat(two.path('a/pvlockfs/config'))).toMatch(/^timeout=7$/m);
    expect(await cat(two.path('b/pvlockfs/config'))).toMatch(/^timeout=1024$/m);
    // The clock is the host's: a step through either root advances both.
    await sh('echo 200000000 > "$1"', two.path('pvlockfs/advance_ns'));
    expect(await cat(two.path('a/pvlockfs/sim_time_ns'))).toBe('200000000\n');
    expect(await cat(two.path('b/pvlockfs/sim_time_ns'))).toBe('200000000\n');
    const taken = async (g: string): Promise<number> =>
      Number(await cat(two.path(`${g}/kvm/spinlocks/taken`)));
    expect(await taken('a')).toBeGreaterThan(0);
    expect(await taken('b')).toBeGreaterThan(0);
    const [a0, b0] = [await taken('a'), await taken('b')];
    await sh('echo 1 > "$1"', two.path('a/kvm/spinlocks/zero_stats'));
    await sh('echo 10000000 > "$1"', two.path('pvlockfs/advance_ns'));
    expect(await taken('a')).toBeLessThan(a0); // zeroed, then 10 ms of counting
    expect(await taken('b')).toBeGreaterThan(b0); // untouched
    const guests = await cat(two.path('pvlockfs/guests'));
    expect(guests).toMatch(
      /^a lock=pv-yield vcpus=4 weight=1024 received_pcpus=[\d.]+ entitlement_pcpus=[\d.]+ received_over_entitlement=[\d.]+\nb lock=pv-yield vcpus=2 weight=512 /,
    );
  });

  it('the recipes and top work on a guest root unchanged', async () => {
    const exp = await run(join(ROOT, 'scripts', 'pvlockfs-exporter'), [
      two.path('b/kvm/spinlocks'),
    ]);
    expect(exp.code, exp.stderr).toBe(0);
    const taken = (await cat(two.path('b/kvm/spinlocks/taken'))).trim();
    expect(exp.stdout).toContain(`\nkvm_spinlock_taken_total ${taken}\n`);
    expect(exp.stdout).toMatch(/^kvm_spinlock_total_seconds_bucket\{le="2e-09"\} \d+$/m);
    const top = await run(
      'bash',
      ['-c', '"$1" top "$2" < /dev/null | head -c 200', 'bash', LAUNCHER, two.path('a')],
      { timeoutMs: 30_000 },
    );
    expect(top.stdout).toContain(`pvlockfs top  ${two.path('a')}/kvm/spinlocks`);
  });

  it('non-root: the same permissions in a guest root as in a single-guest root', async () => {
    const as = async (args: string[]): Promise<string> => {
      const r = await run('runuser', ['-u', 'nobody', '--', ...args]);
      return `${r.code} ${r.stderr.replace(/'[^']*'/g, 'X')}`;
    };
    // modern: 0700 roots, nobody gets no further than the mount's root, as on debugfs.
    expect((await as(['ls', two.path('a')])).split(' ')[0]).toBe(
      (await as(['ls', one.mnt])).split(' ')[0],
    );
    // 2.6.35: 0755 roots; a guest root answers nobody exactly as a single-guest root does.
    for (const rel of ['', 'kvm/spinlocks/taken', 'kvm/spinlocks/histo_total', 'pvlockfs/config']) {
      const cmd = rel === '' ? 'ls' : 'cat';
      const single = await as([cmd, `${oneOld.mnt}/${rel}`]);
      expect(await as([cmd, `${twoOld.path('a')}/${rel}`]), rel).toMatch(/^0 /);
      expect(single, rel).toMatch(/^0 /);
    }
    for (const file of ['timeout', 'zero_stats']) {
      const w = async (root: string): Promise<string> =>
        (await as(['sh', '-c', 'echo 1 > "$1"', 'sh', `${root}/kvm/spinlocks/${file}`])).replace(
          root,
          'ROOT',
        );
      expect(await w(twoOld.path('a'))).toBe(await w(oneOld.mnt));
      expect(await w(oneOld.mnt)).toMatch(/Permission denied/);
    }
  });
});

describe('run with several guests', () => {
  it('prints each guest under its name, or JSON with each guest and its CPU against its entitlement', async () => {
    const args = ['run', '--sim-time', '2s', ...GUESTS];
    const text = await run(LAUNCHER, args, { timeoutMs: 60_000 });
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(22);
    expect(lines[0]).toBe('a/kvm/spinlocks/zero_stats:0');
    expect(lines[11]).toBe('b/kvm/spinlocks/zero_stats:0');
    const [j1, j2] = await Promise.all([
      run(LAUNCHER, [...args, '--json'], { timeoutMs: 60_000 }),
      run(LAUNCHER, [...args, '--json'], { timeoutMs: 60_000 }),
    ]);
    const strip = (s: string): string => s.replace(/"wall_ms":[0-9.]+/, '');
    expect(strip(j1.stdout)).toBe(strip(j2.stdout)); // deterministic
    const j = JSON.parse(j1.stdout) as {
      guests: Record<
        string,
        {
          config: { seed: number; vcpus: number; shares: number };
          files: Record<string, string>;
          cpu: Record<string, number | number[]>;
        }
      >;
    };
    expect(Object.keys(j.guests)).toEqual(['a', 'b']);
    expect(j.guests.a.config.seed).toBe(20100726);
    expect(j.guests.b.config.seed).toBe(20100727);
    expect(j.guests.b.config.shares).toBe(512);
    // 6 vCPUs on 4 pCPUs, no hogs (2x of 6 vCPUs rounds to 12 - 6 = 6 hogs: the default overcommit)
    for (const g of ['a', 'b']) {
      const c = j.guests[g].cpu;
      expect(c.per_second).toHaveLength(2);
      expect(c.received_pcpus as number).toBeGreaterThan(0);
      expect(c.received_over_entitlement).toBeCloseTo(
        (c.received_pcpus as number) / (c.entitlement_pcpus as number),
        3,
      );
    }
    const ent = (g: string): number => j.guests[g].cpu.entitlement_pcpus as number;
    expect(ent('a')).toBeGreaterThan(ent('b'));
  });

  it("a script names each guest's knobs; running=0 ends the run there", async () => {
    const dir = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-guest-script-'));
    try {
      const script = join(dir, 'incident.script');
      await fsp.writeFile(script, '100ms a/timeout=1\n200ms hogs=8\n500ms running=0\n');
      const r = await run(
        LAUNCHER,
        ['run', '--json', '--sim-time', '2s', '--script', script, ...GUESTS],
        {
          timeoutMs: 60_000,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as {
        sim_time_ns: number;
        host: { hogs: number };
        guests: Record<string, { files: Record<string, string> }>;
      };
      expect(j.sim_time_ns).toBe(500e6);
      expect(j.host.hogs).toBe(8);
      expect(j.guests.a.files['kvm/spinlocks/timeout']).toBe('1\n');
      expect(j.guests.b.files['kvm/spinlocks/timeout']).toBe('1024\n');
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('--work: each guest runs one job; a finished guest leaves the host; the run ends with the last', async () => {
    const r = await run(
      LAUNCHER,
      [
        'run',
        '--json',
        '--work',
        '4s',
        '--sim-time',
        '60s',
        '--guest',
        'small:vcpus=2',
        '--guest',
        'big:vcpus=4',
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      sim_time_ns: number;
      guests: Record<string, { job: { finished: boolean; completion_ns: number[] } }>;
    };
    const small = j.guests.small.job;
    const big = j.guests.big.job;
    expect(small.finished && big.finished).toBe(true);
    expect(j.sim_time_ns).toBe(Math.max(small.completion_ns[0], big.completion_ns[0]));
    expect(big.completion_ns[0]).toBeLessThan(small.completion_ns[0]); // twice the vCPUs, same work
  });

  it('refuses what it cannot do, naming the guest', async () => {
    for (const [args, msg] of [
      [['--guest', 'pvlockfs'], /'pvlockfs' is not a guest name/],
      [['--guest', 'a/b'], /'a\/b' is not a guest name/],
      [['--guest', 'a:colour=red'], /--guest a: 'colour' is not a guest key/],
      [['--guest', 'a:vcpus=0'], /--guest a: vcpus/],
      [['--guest', 'a', '--guest', 'a'], /--guest a: given twice/],
      [
        ['--guest', 'a:lock=ticket,layout=qlockstat'],
        /layout qlockstat does not go with lock ticket/,
      ],
      [['--guest', 'a:weight=1'], /--guest a: weight/],
    ] as [string[], RegExp][]) {
      const r = await run(LAUNCHER, ['run', ...args], { timeoutMs: 30_000 });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});
