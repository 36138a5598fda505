import { ChildProcess, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, isMounted, py, run, sh, waitFor } from './harness';

const FILES = [
  'kvm/spinlocks/zero_stats',
  'kvm/spinlocks/timeout',
  'kvm/spinlocks/taken',
  'kvm/spinlocks/taken_slow',
  'kvm/spinlocks/released',
  'kvm/spinlocks/time_spinning',
  'kvm/spinlocks/time_blocked',
  'kvm/spinlocks/time_total',
  'kvm/spinlocks/histo_total',
  'kvm/spinlocks/histo_spinning',
  'kvm/spinlocks/histo_blocked',
  'pvlockfs/running',
  'pvlockfs/sim_time_ns',
  'pvlockfs/seed',
  'pvlockfs/hogs',
  'pvlockfs/config',
];

function spawnLoop(
  script: string,
  ...args: string[]
): { proc: ChildProcess; exited: Promise<number | null> } {
  const proc = spawn('sh', ['-c', script, 'sh', ...args], { stdio: 'ignore' });
  return { proc, exited: new Promise((r) => proc.on('exit', (c) => r(c))) };
}

async function rssKb(pid: number): Promise<number> {
  const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
}

// Seeded random writes: prints one errno name (or "ok <value read back>") per write.
const RANDOM_WRITES = `
import errno, os, random, sys
rnd = random.Random(int(sys.argv[1]))
root = sys.argv[2]
files = sys.argv[3:]
for i in range(int(len(files) * 25)):
    f = files[i % len(files)]
    n = rnd.choice([0, 1, 2, 3, 5, 8, 23, 24, 100, 4096, 65536]) if rnd.random() < 0.8 else rnd.randint(0, 65536)
    data = bytes(rnd.getrandbits(8) for _ in range(n)) if rnd.random() < 0.5 else bytes(rnd.choice(b"0123456789xX+- \\n") for _ in range(n))
    if n == 0:
        print("zero", f)  # FUSE never delivers a zero-length write (README, known FUSE limits)
        continue
    fd = os.open(os.path.join(root, f), os.O_WRONLY)
    try:
        r = os.write(fd, data)
        back = open(os.path.join(root, f), "rb").read() if f.endswith("timeout") else b""
        print("ok", f, r == len(data), data[:23].split(b"\\0")[0].hex(), back.decode().strip())
    except OSError as e:
        print("err", f, errno.errorcode[e.errno])
    finally:
        os.close(fd)
`;

function kstrtoull(hex: string): bigint | null {
  const s = Buffer.from(hex, 'hex').toString('latin1');
  const m = /^\+?(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))\n?$/.exec(s);
  if (!m) return null;
  const v =
    m[1] !== undefined
      ? BigInt(`0x${m[1]}`)
      : m[2] !== undefined
        ? BigInt(`0o${m[2] === '0' ? '0' : m[2].slice(1) || '0'}`)
        : BigInt(m[3]);
  return v > (1n << 64n) - 1n ? null : v;
}

describeFuse('faults and bad input', () => {
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s during heavy reads: clean unmount, exit 0, every reader ends',
    async (sig) => {
      const d = await Daemon.start();
      // Each reader marks its first complete read, then reads on; the signal comes once all
      // eight are reading (a condition, not a pause).
      const marks = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-readers-'));
      const readers = Array.from({ length: 8 }, (_, i) =>
        spawnLoop(
          'cat "$1" > /dev/null && : > "$2" && while cat "$1" > /dev/null 2>&1; do :; done',
          d.path(FILES[(i * 3) % 11]),
          join(marks, String(i)),
        ),
      );
      await waitFor(
        async () => (await fsp.readdir(marks)).length === readers.length,
        30_000,
        'all 8 readers to complete a first read',
      );
      await fsp.rm(marks, { recursive: true, force: true });
      expect(await d.stop(sig), d.output).toBe(0);
      expect(await isMounted(d.mnt)).toBe(false);
      const done = await Promise.race([
        Promise.all(readers.map((r) => r.exited)),
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000)),
      ]);
      for (const r of readers) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
      expect(done).not.toBe('hung');
      await d.cleanup();
    },
  );

  it('held-open files and 10,000 open/close pairs leak nothing; other readers are unaffected', async () => {
    const d = await Daemon.start();
    const pid = d.proc.pid as number;
    const holder = spawn(
      'python3',
      [
        '-c',
        'import os,sys,time\nfds=[os.open(sys.argv[1], os.O_RDONLY) for _ in range(500)]\nprint("held", flush=True)\ntime.sleep(60)',
        d.path('kvm/spinlocks/taken'),
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let held = '';
    holder.stdout?.on('data', (b: Buffer) => (held += b.toString()));
    try {
      await waitFor(() => held.includes('held'), 15_000, '500 files held open');
      expect(await cat(d.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    } finally {
      holder.kill('SIGKILL');
    }
    const churn =
      'import os,sys\nfor _ in range(10000):\n  os.close(os.open(sys.argv[1], os.O_RDONLY))\nprint("done")';
    const rss: number[] = [];
    for (let round = 0; round < 4; round++) {
      const r = await run('python3', ['-c', churn, d.path('kvm/spinlocks/histo_total')], {
        timeoutMs: 60_000,
      });
      expect(r.stdout).toBe('done\n');
      rss.push(await rssKb(pid));
    }
    // The first round warms the daemon up; afterwards 10,000 more handles must not add memory.
    expect(rss[3] - rss[1]).toBeLessThan(8 * 1024);
    expect(await cat(d.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    await d.cleanup();
  });

  it('random writes (seeded, 0..64 KiB) to every file: only the contract errnos, daemon up, stored values parse', async () => {
    const d = await Daemon.start();
    const seed = 424242;
    const r = await py(RANDOM_WRITES, String(seed), d.mnt, ...FILES);
    expect(r.stderr, `seed ${seed}`).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(FILES.length * 25);
    const errnos = new Set<string>();
    for (const line of lines) {
      const [kind, file, ...rest] = line.split(' ');
      if (kind === 'zero') continue;
      if (kind === 'err') {
        errnos.add(rest[0]);
        continue;
      }
      expect(rest[0], `${file}: short write`).toBe('True');
      if (file.endsWith('timeout')) {
        const v = kstrtoull(rest[1]);
        expect(v, `seed ${seed}: accepted ${rest[1]} which kstrtoull refuses`).not.toBeNull();
        expect(rest[2], `seed ${seed}: ${rest[1]}`).toBe(String((v as bigint) & 0xffffffffn));
      }
    }
    for (const e of errnos) expect(['EINVAL', 'ERANGE', 'EACCES']).toContain(e);
    expect(errnos.has('EACCES') && errnos.has('EINVAL')).toBe(true);
    // The daemon is still up and answers; put the control knobs back.
    await sh(
      'echo 4 > "$1"; echo 1 > "$2"; echo 1024 > "$3"',
      d.path('pvlockfs/hogs'),
      d.path('pvlockfs/running'),
      d.path('kvm/spinlocks/timeout'),
    );
    expect(await cat(d.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    expect(d.exitCode).toBe(undefined);
    await d.cleanup();
  });

  it('writes racing with zero_stats and reads leave the §4 invariants intact', async () => {
    const d = await Daemon.start(['--speed', '2']);
    const loops = [
      spawnLoop('for i in $(seq 150); do echo 1 > "$1"; done', d.path('kvm/spinlocks/zero_stats')),
      spawnLoop(
        'for i in $(seq 40); do for t in 1 1024 0 7; do echo $t > "$1"; done; done',
        d.path('kvm/spinlocks/timeout'),
      ),
      spawnLoop('for i in $(seq 60); do grep -r . "$1" > /dev/null; done', d.path('kvm/spinlocks')),
      spawnLoop(
        'for i in $(seq 60); do cat "$1" "$2" > /dev/null; done',
        d.path('kvm/spinlocks/histo_total'),
        d.path('kvm/spinlocks/taken'),
      ),
    ];
    const codes = await Promise.all(loops.map((l) => l.exited));
    expect(codes).toEqual([0, 0, 0, 0]);
    await sh(
      'echo 1024 > "$1"; echo 1 > "$2"',
      d.path('kvm/spinlocks/timeout'),
      d.path('kvm/spinlocks/zero_stats'),
    );
    await waitFor(
      async () => (await cat(d.path('kvm/spinlocks/zero_stats'))) === '0\n',
      30_000,
      'the last reset',
    );
    await waitFor(
      async () => Number(await cat(d.path('kvm/spinlocks/taken'))) > 1000,
      60_000,
      'more than 1000 acquisitions after the last reset',
    );
    await sh('echo 0 > "$1"', d.path('pvlockfs/running'));
    const n = async (f: string): Promise<number> => Number(await cat(d.path(`kvm/spinlocks/${f}`)));
    const h = async (f: string): Promise<number> =>
      (await cat(d.path(`kvm/spinlocks/${f}`)))
        .trim()
        .split(' ')
        .map(Number)
        .reduce((a, b) => a + b, 0);
    const [taken, released, slow, total, spinning, blocked] = [
      await n('taken'),
      await n('released'),
      await n('taken_slow'),
      await h('histo_total'),
      await h('histo_spinning'),
      await h('histo_blocked'),
    ];
    const V = 4;
    // Acquisitions that straddle the last reset may be sampled without being counted in taken.
    expect(Math.abs(total - taken)).toBeLessThanOrEqual(V);
    expect(spinning).toBe(total + slow);
    expect(Math.abs(blocked - slow)).toBeLessThanOrEqual(V);
    expect(Math.abs(taken - released)).toBeLessThanOrEqual(V);
    expect(taken).toBeGreaterThan(1000);
    await d.cleanup();
  });
});
