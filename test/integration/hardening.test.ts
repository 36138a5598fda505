import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cat,
  cleanupAll,
  Daemon,
  describeFuse,
  isMounted,
  LAUNCHER,
  py,
  run,
  sh,
  waitFor,
} from './harness';

/** Mount-point names a hostile or careless user may give: none of it may reach a shell. */
const HOSTILE_NAMES = [
  'x$(touch PWNED)',
  'x`touch PWNED`',
  'q"uo\'te',
  'new\nline',
  'sp ace\there',
  '-dash',
  'back\\slash',
];

/** Whether 127.0.0.1:9229 (Node's inspector) has a listening socket on this machine. */
async function inspectorListening(): Promise<boolean> {
  const tcp = await fsp.readFile('/proc/net/tcp', 'utf8');
  // local_address 0100007F:2405 (127.0.0.1:9229), state 0A (LISTEN)
  return tcp.split('\n').some((l) => / 0100007F:2405 [0-9A-F:]+ 0A /.test(l));
}

describeFuse('safe as root: hostile names, signals, outside unmounts (hardening)', () => {
  let base: string;
  beforeAll(async () => {
    base = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-hostile-'));
  });
  /** Mount points reached another way than the daemon was given (symlink, renamed parent). */
  const elsewhere: string[] = [];
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
    // Whatever a failed test left mounted is cleared here, and fails the suite.
    const left: string[] = [];
    for (const m of elsewhere) {
      if (!(await isMounted(m))) continue;
      left.push(m);
      await run('umount', ['-l', m]);
    }
    expect(left).toEqual([]);
    await fsp.rm(base, { recursive: true, force: true });
  });

  it.each(HOSTILE_NAMES)(
    'a mount point named %j mounts, serves and unmounts; nothing it names is run',
    async (name) => {
      const mnt = join(base, name);
      await fsp.mkdir(mnt);
      // The daemon runs in `base`: a `touch PWNED` that reached a shell would leave base/PWNED.
      const d = await Daemon.start(['--speed', '4'], mnt, base);
      expect(await isMounted(mnt)).toBe(true);
      expect(await cat(d.path('kvm/spinlocks/timeout'))).toBe('1024\n');
      expect(await d.stop('SIGTERM'), d.output).toBe(0);
      expect(await isMounted(mnt)).toBe(false);
      expect(await fsp.readdir(base)).not.toContain('PWNED');
      expect(d.output).toContain('unmounted');
      await fsp.rmdir(mnt);
    },
  );

  it('SIGUSR1 opens no inspector: it is ignored with a line on stderr and the mount keeps serving', async () => {
    const d = await Daemon.start();
    expect(await inspectorListening()).toBe(false);
    d.proc.kill('SIGUSR1');
    await waitFor(
      () => d.output.includes('SIGUSR1 ignored'),
      10_000,
      'the daemon to say SIGUSR1 was ignored',
    );
    expect(d.output).not.toMatch(/Debugger listening/);
    expect(await inspectorListening()).toBe(false);
    expect(await cat(d.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    expect(await d.stop(), d.output).toBe(0);
  });

  it('a mount point given through a symlink is unmounted for real (nothing stale left behind)', async () => {
    const real = join(base, 'real');
    const link = join(base, 'link');
    await fsp.mkdir(real);
    await fsp.symlink(real, link);
    elsewhere.push(real);
    const d = await Daemon.start([], link);
    expect(d.output).toContain(`mounted at ${real}`);
    expect(await isMounted(real)).toBe(true);
    expect(await d.stop(), d.output).toBe(0);
    expect(await isMounted(real)).toBe(false);
    expect((await run('ls', [real])).code).toBe(0);
  });

  it('a mount whose parent was renamed is unmounted where it is now', async () => {
    const parent = join(base, 'before');
    await fsp.mkdir(join(parent, 'm'), { recursive: true });
    const d = await Daemon.start([], join(parent, 'm'));
    const moved = join(base, 'after');
    elsewhere.push(join(moved, 'm'));
    await fsp.rename(parent, moved);
    expect(await isMounted(join(moved, 'm'))).toBe(true);
    expect(await d.stop(), d.output).toBe(0);
    expect(await isMounted(join(moved, 'm'))).toBe(false);
    expect(d.output).toContain(`unmounted ${join(moved, 'm')}`);
  });

  it('a daemon whose mount is unmounted from outside says so and exits instead of simulating on', async () => {
    const d = await Daemon.start();
    expect((await run('umount', ['-l', d.mnt])).code).toBe(0);
    expect(await d.exit(15_000, 'the daemon to notice the outside unmount and exit')).toBe(0);
    expect(d.output).toContain('was removed from outside');
  });

  it('a restart at once after kill -9 clears the stale mount instead of calling it a mount point', async () => {
    const first = await Daemon.start();
    first.proc.kill('SIGKILL');
    await first.exit(10_000, 'the killed daemon to be reaped');
    // No pause: a supervisor restarts within 100 ms, while stat of the dead mount still succeeds.
    const second = await Daemon.start([], first.mnt);
    expect(second.output).toContain('stale mount');
    expect(await cat(second.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    expect(await second.stop(), second.output).toBe(0);
    expect(await isMounted(first.mnt)).toBe(false);
  });

  it('SIGSTOP then SIGCONT is not reported as the simulation falling behind', async () => {
    const d = await Daemon.start(['--speed', '1']);
    // The falling-behind notice is armed after a 2 s warm-up: stop the daemon after it.
    await waitFor(
      async () => Number(await cat(d.path('pvlockfs/sim_time_ns'))) > 2.5e9,
      30_000,
      'simulated time past the warm-up',
    );
    d.proc.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 1000));
    d.proc.kill('SIGCONT');
    const t = Number(await cat(d.path('pvlockfs/sim_time_ns')));
    await waitFor(
      async () => Number(await cat(d.path('pvlockfs/sim_time_ns'))) > t + 5e8,
      30_000,
      'the guest to run on after SIGCONT',
    );
    expect(d.output).not.toMatch(/cannot keep up/);
    expect(await d.stop(), d.output).toBe(0);
  });

  it('the default mount point under /proc/self or a read-only directory: exit 1 with a one-line reason', async () => {
    const proc = await run('sh', ['-c', 'cd /proc/self && exec "$1" mount', 'sh', LAUNCHER], {
      timeoutMs: 30_000,
    });
    expect(proc.code).toBe(1);
    expect(proc.stderr).toMatch(
      /^pvlockfs: mount point \/proc\/\d+\/mount: cannot create \/proc\/\d+\/mount \(\w+\)\n$/,
    );
    const ro = join(base, 'ro');
    await fsp.mkdir(ro);
    expect((await run('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'pvlockfs-ro', ro])).code).toBe(
      0,
    );
    try {
      const r = await run('sh', ['-c', 'cd "$2" && exec "$1" mount', 'sh', LAUNCHER, ro], {
        timeoutMs: 30_000,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `pvlockfs: mount point ${ro}/mount: cannot create ${ro}/mount (EROFS)\n`,
      );
    } finally {
      await run('umount', [ro]);
    }
  });
});

describeFuse('the knobs refuse what they cannot hold; big writes are one write (hardening)', () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await Daemon.start(['--speed', '4']);
  });
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it('echo 4294967296 > pvlockfs/hogs is refused (EINVAL), not truncated to 0', async () => {
    const before = await cat(d.path('pvlockfs/hogs'));
    // bash, not sh: dash's echo reports every failed write as "I/O error".
    const r = await run('bash', ['-c', 'echo 4294967296 > "$1"', 'bash', d.path('pvlockfs/hogs')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Invalid argument/);
    expect(await cat(d.path('pvlockfs/hogs'))).toBe(before);
  });

  it('pvlockfs/config shows the timeout knob as it is now', async () => {
    expect((await sh('echo 512 > "$1"', d.path('kvm/spinlocks/timeout'))).code).toBe(0);
    expect(await cat(d.path('pvlockfs/config'))).toMatch(/^timeout=512$/m);
    expect((await sh('echo 1024 > "$1"', d.path('kvm/spinlocks/timeout'))).code).toBe(0);
  });

  it('one write(2) of 200,002 bytes is one write: the first 23 bytes decide, the full length is returned', async () => {
    const script = [
      'import os,sys',
      'def w(data):',
      '  fd=os.open(sys.argv[1],os.O_WRONLY)',
      '  try:',
      '    return str(os.write(fd,data))',
      '  except OSError as e:',
      '    return "errno%d" % e.errno',
      '  finally:',
      '    os.close(fd)',
      'a=w(b"7\\0"+b"0"*200000); v1=open(sys.argv[1]).read().strip()',
      'b=w(b"9"*200002); v2=open(sys.argv[1]).read().strip()',
      'c=w(b"33\\n\\0"+b" "*300000); v3=open(sys.argv[1]).read().strip()',
      'print(a,v1,b,v2,c,v3)',
    ].join('\n');
    const r = await py(script, d.path('kvm/spinlocks/timeout'));
    expect(r.code, r.stderr).toBe(0);
    // 23 nines are out of range for kstrtoull: ERANGE (34) for the whole write, nothing stored.
    expect(r.stdout).toBe('200002 7 errno34 7 300004 33\n');
    expect((await sh('echo 1024 > "$1"', d.path('kvm/spinlocks/timeout'))).code).toBe(0);
  });

  it('pread is ESPIPE at offset 0 of a fresh descriptor as at any other (non-seekable, docs/debugfs.md §6)', async () => {
    const r = await py(
      'import os,sys\nfd=os.open(sys.argv[1],os.O_RDONLY)\nfor at in (0, 3):\n  try:\n    os.pread(fd,64,at)\n  except OSError as e:\n    print(e.errno)\nprint(os.read(fd,64).decode().strip())',
      d.path('kvm/spinlocks/timeout'),
    );
    expect(r.stdout).toBe('29\n29\n1024\n');
  });
});
