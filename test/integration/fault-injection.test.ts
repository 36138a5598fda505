import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, py, run, sh, waitFor } from './harness';

// Fault injection on a real mount (docs/faults.md): the kernel's attributes under
// pvlockfs/fault/, what readers get, stalls released by the simulated clock, the access log, and
// replay from a seed.

const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];

/** Writes control files in order: [relative path under pvlockfs/fault/, value]. */
async function arm(d: Daemon, writes: Array<[string, string]>): Promise<void> {
  for (const [f, v] of writes) {
    const r = await sh('printf "%s\\n" "$2" > "$1"', d.path(`pvlockfs/fault/${f}`), v);
    expect(r.code, `${f} = ${v}: ${r.stderr}`).toBe(0);
  }
}

/** Reads a file with one read(2) of a fresh descriptor: its text, or the errno's name. */
const READ_ONCE = `
import errno, os, sys
for p in sys.argv[1:]:
    try:
        fd = os.open(p, os.O_RDONLY)
        try:
            print(os.read(fd, 4096).decode().strip())
        finally:
            os.close(fd)
    except OSError as e:
        print(errno.errorcode[e.errno])
`;

/**
 * One read(2) of each file through libc itself, as Go's or C's raw read makes it: Python's own
 * os.read retries EINTR (PEP 475), a raw read does not.
 */
const READ_RAW = `
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY)
    buf = ctypes.create_string_buffer(4096)
    n = libc.read(fd, buf, 4096)
    os.close(fd)
    print(buf.raw[:n].decode().strip() if n >= 0 else errno.errorcode[ctypes.get_errno()])
`;

/** One write(2) of argv[2] to argv[1]: the byte count, or the errno's name. */
const WRITE_ONCE = `
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    print(os.write(fd, sys.argv[2].encode()))
except OSError as e:
    print(errno.errorcode[e.errno])
finally:
    os.close(fd)
`;

describeFuse('fault injection under pvlockfs/fault/', () => {
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it("has the kernel's attributes with the kernel's defaults, root only, outside kvm/spinlocks", async () => {
    const d = await Daemon.start(['--paused']);
    try {
      const defaults = await sh(
        'cd "$1" && for f in probability interval times space verbose task-filter fail-nth errno files; do printf "%s=%s\\n" $f "$(cat fail_read/$f)"; done; stat -c "%a %n" . fail_read fail_read/times stall/ns',
        d.path('pvlockfs/fault'),
      );
      expect(defaults.stdout).toBe(
        [
          'probability=0',
          'interval=1',
          'times=1',
          'space=0',
          'verbose=2',
          'task-filter=N',
          'fail-nth=0',
          'errno=EIO',
          'files=',
          '700 .',
          '700 fail_read',
          '600 fail_read/times',
          '600 stall/ns',
          '',
        ].join('\n'),
      );
      expect((await fsp.readdir(d.path('pvlockfs/fault'))).sort()).toEqual([
        'counters',
        'fail_getattr',
        'fail_open',
        'fail_read',
        'fail_readdir',
        'fail_write',
        'injected',
        'log',
        'stall',
      ]);
      expect(await fsp.readdir(d.path('kvm/spinlocks'))).not.toContain('fault');
      const nobody = await run('setpriv', [...AS_NOBODY, 'cat', d.path('pvlockfs/fault/log')]);
      expect(nobody.stderr).toMatch(/Permission denied/);
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('refuses what a control file cannot take: EINVAL, the value unchanged', async () => {
    const d = await Daemon.start(['--paused']);
    try {
      for (const [f, bad, kept] of [
        ['fail_read/probability', '101', '0'],
        ['fail_read/times', '-2', '1'],
        ['fail_read/errno', 'EWHATEVER', 'EIO'],
        ['fail_read/task-filter', 'maybe', 'N'],
        ['fail_read/verbose', '3', '2'],
        ['stall/ops', 'read chmod', 'read'],
        ['stall/hang', '2', '0'],
      ]) {
        // One write(2) each, its errno by name (a shell's printf reports any failure as EIO).
        const r = await py(WRITE_ONCE, d.path(`pvlockfs/fault/${f}`), `${bad}\n`);
        expect(r.stdout, `${f} = ${bad}`).toBe('EINVAL\n');
        expect(await cat(d.path(`pvlockfs/fault/${f}`))).toBe(`${kept}\n`);
      }
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('fail_read on one file: the errno reaches cat, dd and a raw read; siblings stay healthy; times runs out', async () => {
    const d = await Daemon.start(['--paused']);
    try {
      await arm(d, [
        ['fail_read/files', 'kvm/spinlocks/histo_total'],
        ['fail_read/errno', 'EAGAIN'],
        ['fail_read/times', '3'],
        ['fail_read/probability', '100'],
      ]);
      const histo = d.path('kvm/spinlocks/histo_total');
      const c = await run('cat', [histo]);
      expect([c.code, c.stderr]).toEqual([1, `cat: ${histo}: Resource temporarily unavailable\n`]);
      const dd = await run('dd', [`if=${histo}`, 'status=none']);
      expect(dd.stderr).toMatch(/Resource temporarily unavailable/);
      const raw = await py(READ_ONCE, histo, d.path('kvm/spinlocks/taken'), histo);
      expect(raw.stdout.split('\n')).toEqual([
        'EAGAIN',
        '0',
        expect.stringMatching(/^0( 0){30}$/),
        '',
      ]);
      expect(await cat(d.path('pvlockfs/fault/fail_read/times'))).toBe('0\n');
      expect(await cat(d.path('pvlockfs/fault/injected'))).toBe(
        'fail_open 0\nfail_read 3\nfail_write 0\nfail_getattr 0\nfail_readdir 0\nstall 0\n',
      );
      expect(await cat(d.path('pvlockfs/fault/log'))).toBe(
        '0 read /kvm/spinlocks/histo_total EAGAIN\n'.repeat(3),
      );
      // verbose 2 (the default): the kernel's words on the daemon's standard error.
      expect(d.output).toContain(
        'FAULT_INJECTION: forcing a failure.\nname fail_read, interval 1, probability 100, space 0, times 3',
      );
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('each errno reaches cat with the words the kernel would give, and a raw read with its number', async () => {
    const d = await Daemon.start(['--paused']);
    try {
      const taken = d.path('kvm/spinlocks/taken');
      // coreutils' cat retries a read that fails with EINTR (safe_read): it then prints the value.
      for (const [name, words] of [
        ['EIO', 'Input/output error'],
        ['EAGAIN', 'Resource temporarily unavailable'],
        ['EINTR', null],
        ['ENOENT', 'No such file or directory'],
        ['EACCES', 'Permission denied'],
        ['ENODEV', 'No such device'],
        ['ENOTCONN', 'Transport endpoint is not connected'],
        ['ESTALE', 'Stale file handle'],
      ] as const) {
        const once = (): Promise<void> =>
          arm(d, [
            ['fail_read/errno', name],
            ['fail_read/verbose', '0'],
            ['fail_read/times', '1'],
            ['fail_read/probability', '100'],
          ]);
        await once();
        const c = await run('cat', [taken]);
        if (words === null) expect([c.code, c.stdout, c.stderr], name).toEqual([0, '0\n', '']);
        else expect(c.stderr, name).toBe(`cat: ${taken}: ${words}\n`);
        await once();
        expect((await py(READ_RAW, taken, taken)).stdout, name).toBe(`${name}\n0\n`);
      }
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('task-filter: only the pids in tasks fail (the caller pid from the patched binding)', async () => {
    const d = await Daemon.start(['--paused']);
    try {
      await arm(d, [
        ['fail_read/task-filter', 'Y'],
        ['fail_read/times', '-1'],
        ['fail_read/verbose', '0'],
        ['fail_read/probability', '100'],
      ]);
      // A process marks itself (as echo 1 > /proc/self/make-it-fail would), reads, and a cat
      // started after it is not marked.
      const marked = await py(
        `
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, str(os.getpid()).encode())
os.close(fd)
fd = os.open(sys.argv[2], os.O_RDONLY)
try:
    print(os.read(fd, 64).decode().strip())
except OSError as e:
    print(errno.errorcode[e.errno])
`,
        d.path('pvlockfs/fault/fail_read/tasks'),
        d.path('kvm/spinlocks/taken'),
      );
      expect(marked.stdout).toBe('EIO\n');
      expect(await cat(d.path('kvm/spinlocks/taken'))).toBe('0\n');
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it("a stall longer than fuse-native's 15 s per-operation timeout: the reader gets its value, not ETIMEDOUT", async () => {
    const d = await Daemon.start(['--paused']);
    try {
      await arm(d, [
        ['stall/ms', '16000'],
        ['stall/probability', '100'],
      ]);
      const started = Date.now();
      const r = await run('cat', [d.path('kvm/spinlocks/taken')], { timeoutMs: 120_000 });
      expect([r.code, r.stdout, r.stderr]).toEqual([0, '0\n', '']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(16_000);
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('an access log that cannot be written (a full disk) ends in one line; the mount serves on', async () => {
    const d = await Daemon.start(['--paused', '--access-log', '/dev/full']);
    try {
      expect(await cat(d.path('kvm/spinlocks/taken'))).toBe('0\n');
      expect(await cat(d.path('kvm/spinlocks/released'))).toBe('0\n');
      await waitFor(() => /the access log ended/.test(d.output), 60_000, 'the line that ends it');
      expect(await cat(d.path('kvm/spinlocks/taken'))).toBe('0\n');
      expect(d.output.match(/the access log ended: .*ENOSPC/g)).toHaveLength(1);
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('fail-nth: the Nth open fails, then it reads 0', async () => {
    const d = await Daemon.start(['--paused']);
    try {
      await arm(d, [['fail_open/fail-nth', '3']]);
      const taken = d.path('kvm/spinlocks/taken');
      const r = await py(READ_ONCE, taken, taken, taken, taken);
      expect(r.stdout).toBe('0\n0\nEIO\n0\n');
      expect(await cat(d.path('pvlockfs/fault/fail_open/fail-nth'))).toBe('0\n');
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('a stall of simulated time holds a reader on a paused mount until advance_ns passes it', async () => {
    const d = await Daemon.start(['--paused']);
    try {
      await arm(d, [
        ['stall/ns', '5000000'],
        ['stall/files', 'kvm/spinlocks/taken'],
        ['stall/probability', '100'],
      ]);
      const reader = spawn('cat', [d.path('kvm/spinlocks/taken')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      reader.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number | null>((r) => reader.on('exit', (c) => r(c)));
      try {
        await waitFor(
          async () => (await cat(d.path('pvlockfs/fault/injected'))).includes('stall 1'),
          60_000,
          'the stall to hold the reader',
        );
        // Nothing moves the paused clock: the reader is held (the stall releases on time only).
        const stepped = await sh('echo 4999999 > "$1"', d.path('pvlockfs/advance_ns'));
        expect(stepped.code).toBe(0);
        expect(reader.exitCode).toBeNull();
        expect(await sh('echo 1 > "$1"', d.path('pvlockfs/advance_ns'))).toMatchObject({ code: 0 });
        expect(await exited).toBe(0);
        expect(out).toMatch(/^\d+\n$/);
      } finally {
        if (reader.exitCode === null) reader.kill('SIGKILL');
      }
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('--fail read=1,100,0,1 arms at start: the first read fails with EIO, the next succeeds', async () => {
    const d = await Daemon.start(['--paused', '--fail', 'read=1,100,0,1']);
    try {
      const taken = d.path('kvm/spinlocks/taken');
      expect((await py(READ_ONCE, taken, taken)).stdout).toBe('EIO\n0\n');
    } finally {
      expect(await d.stop()).toBe(0);
    }
    const bad = await run(join(__dirname, '../../scripts/pvlockfs'), [
      'mount',
      '--fail',
      'read=1,101,0,1',
    ]);
    expect([bad.code, bad.stderr]).toEqual([
      2,
      expect.stringMatching(/--fail: read: probability 101 is not a percentage/),
    ]);
  });

  it('the access log has a line per operation, with the caller pid; two paused mounts with one seed replay the same faults', async () => {
    const dir = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-access-'));
    const sequence = async (name: string): Promise<{ reads: string; log: string[] }> => {
      const logFile = join(dir, `${name}.log`);
      const d = await Daemon.start(['--paused', '--seed', '7', '--access-log', logFile]);
      try {
        await arm(d, [
          ['fail_read/times', '-1'],
          ['fail_read/verbose', '0'],
          ['fail_read/probability', '30'],
        ]);
        const files = ['taken', 'released', 'histo_total'].map((f) => d.path(`kvm/spinlocks/${f}`));
        const reads = await py(READ_ONCE, ...files, ...files, ...files, ...files, ...files);
        const who = await sh('echo $$; exec cat "$1" > /dev/null', files[0]);
        const pid = who.stdout.trim();
        const log = (await fsp.readFile(logFile, 'utf8')).split('\n').filter(Boolean);
        // The cat's open is logged with its pid.
        expect(
          log.filter(
            (l) => / open \/kvm\/spinlocks\/taken \d+$/.test(l) && l.split(' ')[2] === pid,
          ),
        ).toHaveLength(1);
        return {
          reads: reads.stdout + (await cat(d.path('pvlockfs/fault/injected'))),
          // Simulated time, operation, path, result of the calls the reader waits for (a close's
          // RELEASE is answered after close(2) returns, so its place in the log may vary).
          log: log
            .filter((l) => / (open|read|write) /.test(l))
            .filter((l) => l.includes('/kvm/'))
            .map((l) =>
              l
                .split(' ')
                .filter((_, i) => i !== 1 && i !== 2)
                .join(' '),
            ),
        };
      } finally {
        expect(await d.stop()).toBe(0);
      }
    };
    try {
      const a = await sequence('a');
      const b = await sequence('b');
      expect(a.reads).toMatch(/EIO/);
      expect(a.reads).toMatch(/^0$/m);
      expect(b).toEqual(a);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('counter faults in a script: a paused mount stepped through it shows what run --script prints', async () => {
    const dir = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-counters-'));
    try {
      const script = join(dir, 'counters.script');
      await fsp.writeFile(
        script,
        [
          '40ms fault wrap=50',
          '90ms fault freeze',
          '120ms fault thaw',
          '150ms fault reset',
          '155ms fault reboot=20ms',
          '180ms fault glitch=1 minus=7 files=kvm/spinlocks/taken,kvm/spinlocks/histo_*',
          '',
        ].join('\n'),
      );
      const d = await Daemon.start(['--paused', '--seed', '3', '--script', script]);
      let mounted: string;
      try {
        expect(await sh('echo 200000000 > "$1"', d.path('pvlockfs/advance_ns'))).toMatchObject({
          code: 0,
        });
        mounted = (await run('grep', ['-r', '.', 'kvm'], { cwd: d.mnt })).stdout;
        expect(await cat(d.path('pvlockfs/fault/counters'))).toBe(
          'events=7\nfrozen=0\nglitching_files=0\nloaded=1\n',
        );
      } finally {
        expect(await d.stop()).toBe(0);
      }
      const r = await run(
        join(__dirname, '../../scripts/pvlockfs'),
        ['run', '--seed', '3', '--sim-time', '200ms', '--script', script],
        { timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n').sort()).toEqual(mounted.trim().split('\n').sort());
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('counter faults written live: wrap, freeze, glitch and reset as a reader sees them', async () => {
    const d = await Daemon.start(['--paused', '--seed', '3']);
    try {
      const counters = d.path('pvlockfs/fault/counters');
      const taken = d.path('kvm/spinlocks/taken');
      const step = async (ns: number): Promise<void> =>
        void expect(await sh(`echo ${ns} > "$1"`, d.path('pvlockfs/advance_ns'))).toMatchObject({
          code: 0,
        });
      await step(50e6);
      expect((await py(WRITE_ONCE, counters, 'wrap=3\n')).stdout).toBe('7\n');
      expect(await cat(d.path('kvm/spinlocks/taken_slow'))).toBe('4294967293\n');
      await step(50e6);
      expect(Number(await cat(d.path('kvm/spinlocks/taken_slow')))).toBeLessThan(1e6);
      expect((await py(WRITE_ONCE, counters, 'freeze')).stdout).toBe('6\n');
      const held = await cat(taken);
      await step(50e6);
      expect(await cat(taken)).toBe(held);
      await py(WRITE_ONCE, counters, 'thaw');
      expect(await cat(taken)).not.toBe(held);
      await py(WRITE_ONCE, counters, 'glitch=1 files=kvm/spinlocks/taken');
      expect(await cat(taken)).toBe('0\n');
      expect(await cat(taken)).not.toBe('0\n');
      await py(WRITE_ONCE, counters, 'reset');
      expect(await cat(taken)).toBe('0\n');
      expect((await py(WRITE_ONCE, counters, 'wrap=0')).stdout).toBe('EINVAL\n');
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('unload: a held descriptor gets EIO, a fresh open ENOENT; load brings the directory back zeroed', async () => {
    const d = await Daemon.start(['--paused', '--seed', '3']);
    try {
      expect(await sh('echo 50000000 > "$1"', d.path('pvlockfs/advance_ns'))).toMatchObject({
        code: 0,
      });
      const before = (await run('stat', ['-c', '%i', d.path('kvm/spinlocks/taken')])).stdout;
      // One Python process holds taken open across the unload and the load.
      const r = await py(
        `
import errno, os, sys
taken, counters = sys.argv[1], sys.argv[2]
def control(event):
    fd = os.open(counters, os.O_WRONLY)
    os.write(fd, event.encode())
    os.close(fd)
def attempt(fn):
    try:
        return fn()
    except OSError as e:
        return errno.errorcode[e.errno]
held = os.open(taken, os.O_RDONLY)
print(int(os.read(held, 64)) > 0)
control('unload')
print(attempt(lambda: os.open(taken, os.O_RDONLY)))
print(attempt(lambda: os.read(held, 64)))
control('load')
fresh = os.open(taken, os.O_RDONLY)
print(os.read(fresh, 64).decode().strip())
print(attempt(lambda: os.read(held, 64)))
`,
        d.path('kvm/spinlocks/taken'),
        d.path('pvlockfs/fault/counters'),
      );
      expect(r.stdout).toBe('True\nENOENT\nEIO\n0\nEIO\n');
      // The reloaded directory's files are new inodes (once the kernel's attribute cache of the
      // old ones, up to a second, has expired).
      const ino = async (): Promise<string> =>
        (await run('stat', ['-c', '%i', d.path('kvm/spinlocks/taken')])).stdout;
      await waitFor(async () => (await ino()) !== before, 30_000, 'a new inode number for taken');
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });
});
