import { spawn } from 'node:child_process';
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
  ROOT,
  run,
  sh,
  waitFor,
} from './harness';

/**
 * A second round of attacks on a root daemon: a full disk, a closed pipe, planted symlinks and
 * swapped directories, a mount on top, a killed recorder, a launcher another user can change.
 * Each test is what an attacker (or an accident) did, and what must hold afterwards.
 */

const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];

/** `echo VALUE > FILE` through bash (which names the errno); '' on success, else its message. */
async function write(file: string, value: string): Promise<string> {
  const r = await run('bash', ['-c', 'echo "$1" > "$2"', 'bash', value, file]);
  return r.code === 0 ? '' : r.stderr.trim() || `exit ${r.code}`;
}

/** `key=value` lines as an object. */
function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

describeFuse('safe as root, round 2: what another user or an accident can do', () => {
  let base: string;
  /** Mounts a test made itself (tmpfs, bind mounts), unmounted at the end whatever happened. */
  const ownMounts: string[] = [];
  beforeAll(async () => {
    base = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-root2-'));
    // `nobody` plays the other user: it must be able to reach its own directories in here.
    await fsp.chmod(base, 0o755);
  });
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
    const left: string[] = [];
    for (const m of ownMounts.reverse())
      while (await isMounted(m)) {
        left.push(m);
        if ((await run('umount', ['-l', m])).code !== 0) break;
      }
    await fsp.rm(base, { recursive: true, force: true });
    // Only the mounts a test leaves on purpose (and says so) may be found here.
    expect(left.filter((m) => !m.includes('covered'))).toEqual([]);
  });

  /** A fresh directory under `base`. */
  async function fresh(name: string, owner?: 'nobody'): Promise<string> {
    const d = join(base, name);
    await fsp.mkdir(d, { recursive: true });
    if (owner) expect((await run('chown', [owner, d])).code).toBe(0);
    return d;
  }

  it('a recording whose directory fills up ends there: the simulation is untouched, trace_status says why, the daemon keeps serving', async () => {
    const small = await fresh('small');
    expect((await run('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'pvl-small', small])).code).toBe(
      0,
    );
    ownMounts.push(small);
    const d = await Daemon.start(['--paused', '--seed', '7', '--trace-dir', small]);
    try {
      expect(await write(d.path('pvlockfs/trace_ns'), '1000000000')).toBe('');
      // One simulated second of timeline is megabytes: the disk fills during this step.
      expect(await write(d.path('pvlockfs/advance_ns'), '1000000000')).toBe('');
      const st = keyValues(await cat(d.path('pvlockfs/trace_status')));
      expect(st.recording).toBe('0');
      expect(st.written).toBe('0');
      expect(st.last_error).toMatch(/ENOSPC/);
      expect(d.output).toMatch(/ENOSPC/);
      // Nothing half-written is kept (the partial file and its temporary name are gone).
      expect(await fsp.readdir(small)).toEqual([]);
      // Exactly one simulated second ran, event for event: the files are what a headless run of
      // the same seed shows.
      expect(await cat(d.path('pvlockfs/sim_time_ns'))).toBe('1000000000\n');
      const headless = await run(LAUNCHER, ['run', '--seed', '7', '--sim-time', '1s'], {
        timeoutMs: 60_000,
      });
      const taken = /^kvm\/spinlocks\/taken:(\d+)$/m.exec(headless.stdout)?.[1];
      expect(taken).toBeDefined();
      expect(await cat(d.path('kvm/spinlocks/taken'))).toBe(`${taken}\n`);
      // And it runs on: stepping, then the wall clock.
      expect(await write(d.path('pvlockfs/advance_ns'), '1000000')).toBe('');
      expect(await write(d.path('pvlockfs/running'), '1')).toBe('');
      await waitFor(
        async () => Number(await cat(d.path('pvlockfs/sim_time_ns'))) > 1_001_000_000,
        30_000,
        'the guest to run on after the failed recording',
      );
      expect(await d.stop(), d.output).toBe(0);
    } finally {
      await d.cleanup();
      await run('umount', [small]);
    }
  });

  it('output files: /dev/stdout and /dev/stderr stay symlinks (a private /dev), a symlink to a device or a directory is refused, the exporter never writes into a directory', async () => {
    // A private mount namespace with a /dev of its own: whatever happens, the host's is safe.
    const out = join(base, 'trace-on-stderr.json');
    const script = `set -e
mount -t tmpfs -o size=1m pvl-dev /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/urandom c 1 9
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
"$1" run --sim-time 20ms --trace /dev/stderr --trace-for 1ms --trace-svg /dev/stdout --trace-svg-for 1ms > /dev/null 2> "$2"
test -L /dev/stdout && test -L /dev/stderr && echo intact`;
    const r = await run(
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', LAUNCHER, out],
      {
        timeoutMs: 60_000,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('intact\n');
    expect(await fsp.readFile(out, 'utf8')).toMatch(/^\{"displayTimeUnit":"ns","traceEvents":\[/);

    const dir = await fresh('outputs');
    const toDevice = join(dir, 'to-null.json');
    await fsp.symlink('/dev/null', toDevice);
    const dev = await run(LAUNCHER, ['run', '--sim-time', '10ms', '--trace', toDevice], {
      timeoutMs: 30_000,
    });
    expect(dev.code).toBe(1);
    expect(dev.stderr).toMatch(/is a symlink to a character device: it is not replaced/);
    expect((await fsp.lstat(toDevice)).isSymbolicLink()).toBe(true);

    const target = await fresh('outputs-dir');
    const toDir = join(dir, 'to-dir.svg');
    await fsp.symlink(target, toDir);
    const histo = join(dir, 'histo_total');
    await fsp.writeFile(histo, `${Array.from({ length: 31 }, (_, i) => i).join(' ')}\n`);
    const h = await run(LAUNCHER, ['histo', histo, '--svg', toDir]);
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/is a symlink to a directory: it is not replaced/);

    // The exporter's OUT_FILE planted as a symlink to a directory: nothing is dropped in there.
    const spin = await fresh('spinlocks');
    for (const f of ['taken', 'taken_slow', 'released', 'time_spinning', 'time_blocked']) {
      await fsp.writeFile(join(spin, f), '5\n');
    }
    await fsp.writeFile(join(spin, 'time_total'), '5\n');
    await fsp.writeFile(join(spin, 'timeout'), '1024\n');
    await fsp.writeFile(join(spin, 'zero_stats'), '0\n');
    for (const f of ['histo_total', 'histo_spinning', 'histo_blocked'])
      await fsp.writeFile(join(spin, f), `${Array(31).fill(0).join(' ')}\n`);
    const prom = join(dir, 'kvm.prom');
    await fsp.symlink(target, prom);
    const e = await run(join(ROOT, 'scripts', 'pvlockfs-exporter'), [spin, prom]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/exists and is not a regular file/);
    expect(await fsp.readdir(target)).toEqual([]);
    expect((await fsp.lstat(prom)).isSymbolicLink()).toBe(true);
    // A plain name still works, and leaves no temporary file beside it.
    const ok = await run(join(ROOT, 'scripts', 'pvlockfs-exporter'), [spin, join(dir, 'ok.prom')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await fsp.readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('closed stdout and stderr (a log reader that went away) never kill the daemon; a result that cannot be written is one line, exit 1', async () => {
    const mnt = await fresh('closed-pipes');
    const traces = await fresh('closed-pipes-traces');
    const proc = spawn(LAUNCHER, ['mount', mnt, '--paused', '--trace-dir', traces], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    try {
      await waitFor(() => out.includes('mounted at'), 30_000, 'the ready line');
      // The reader goes away: every later line of the daemon meets a closed pipe.
      proc.stdout.destroy();
      proc.stderr.destroy();
      // Lines the daemon writes now: a recording's "wrote …", SIGUSR2's diagnostics, SIGUSR1's notice.
      expect(await write(join(mnt, 'pvlockfs/trace_ns'), '1000000')).toBe('');
      expect(await write(join(mnt, 'pvlockfs/advance_ns'), '2000000')).toBe('');
      proc.kill('SIGUSR2');
      proc.kill('SIGUSR1');
      expect(await write(join(mnt, 'pvlockfs/advance_ns'), '1000000')).toBe('');
      expect(await cat(join(mnt, 'pvlockfs/sim_time_ns'))).toBe('3000000\n');
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await isMounted(mnt)).toBe(false);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      if (await isMounted(mnt)) await run('umount', ['-l', mnt]);
    }
    expect(await fsp.readdir(traces)).toEqual(['pvlockfs-trace-0ns.json']);
    const full = await sh('"$1" run --sim-time 10ms --json > /dev/full', LAUNCHER);
    expect(full.code).toBe(1);
    expect(full.stderr).toBe('pvlockfs: cannot write the output to standard output (ENOSPC)\n');
    // A reader that stops early: exit 141 (or 0 when everything fit in the pipe before it
    // closed), never a stack trace. A megabyte of timeline on stdout cannot fit: 141.
    const head = await run(
      'bash',
      [
        '-c',
        '"$1" run --sim-time 40s | head -1 > /dev/null; echo "${PIPESTATUS[0]}"',
        'bash',
        LAUNCHER,
      ],
      { timeoutMs: 120_000 },
    );
    expect(['0\n', '141\n']).toContain(head.stdout);
    // (On a busy machine the run reports its progress on stderr: that is all it may say.)
    expect(head.stderr).not.toMatch(/Error|EPIPE|\n\s+at /);
    const big = await run(
      'bash',
      [
        '-c',
        '"$1" run --sim-time 1s --trace - --trace-for 1s | head -c 100 > /dev/null; echo "${PIPESTATUS[0]}"',
        'bash',
        LAUNCHER,
      ],
      { timeoutMs: 120_000 },
    );
    expect(big.stdout).toBe('141\n');
    expect(big.stderr).not.toMatch(/Error|\n\s+at /);
  });

  it('the mount point: a symlink another user can change is not followed, a .gitkeep makes a chosen mount point not empty, and a directory swapped for a symlink after the checks does not steer the mount', async () => {
    const home = await fresh('home', 'nobody');
    const target = await fresh('steer-target');
    // (1) A symlink on the path that nobody owns.
    const link = join(home, 'link');
    await fsp.symlink(target, link);
    expect((await run('chown', ['-h', 'nobody', link])).code).toBe(0);
    const r1 = await run(LAUNCHER, ['mount', link], { timeoutMs: 30_000 });
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/is a symlink that another user \(uid \d+\) can change/);
    expect(await isMounted(target)).toBe(false);
    // (2) A .gitkeep counts only in the default ./mount.
    const kept = await fresh('kept');
    await fsp.writeFile(join(kept, '.gitkeep'), '');
    const r2 = await run(LAUNCHER, ['mount', kept], { timeoutMs: 30_000 });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/is not empty .*\.gitkeep/);
    expect(await isMounted(kept)).toBe(false);
    // (3) nobody swaps the mount point for a symlink to `target` the moment root's check has
    //     read it (inotify on close), as the attack did.
    const m = join(home, 'm');
    await fsp.mkdir(m);
    expect((await run('chown', ['nobody', m])).code).toBe(0);
    const attacker = spawn(
      'setpriv',
      [...AS_NOBODY, '/usr/bin/python3', '-c', SWAPPER, home, target],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let said = '';
    attacker.stdout.on('data', (b: Buffer) => (said += b.toString()));
    const attackerDone = new Promise<void>((r) => attacker.on('exit', () => r()));
    await waitFor(() => said.includes('ready'), 20_000, 'the attacker to watch the mount point');
    let d: Daemon | null = null;
    try {
      d = await Daemon.start([], m);
      await waitFor(
        () => said.includes('swapped') || said.includes('failed'),
        20_000,
        'the attacker to act',
      );
      // Whatever the attacker managed, the mount is on the directory root checked: renamed away
      // by the attacker before the mount (swapped), or still in place (a mount point cannot be
      // renamed, so a swap after the mount fails).
      expect(await isMounted(target)).toBe(false);
      const swapped = said.includes('swapped');
      expect(await isMounted(join(home, 'm.old')), said).toBe(swapped);
      expect(await isMounted(m), said).toBe(!swapped);
      expect(await d.stop(), d.output).toBe(0);
      expect(await isMounted(target)).toBe(false);
      expect(await isMounted(m)).toBe(false);
      expect(await isMounted(join(home, 'm.old'))).toBe(false);
    } finally {
      if (attacker.exitCode === null) attacker.kill('SIGKILL');
      await attackerDone;
      await d?.cleanup();
      for (const p of [target, join(home, 'm.old')])
        if (await isMounted(p)) await run('umount', ['-l', p]);
    }
  });

  it('files opened in a loop by another user (2.6.35 ABI): opens never fail, the table stays bounded, root reads as ever', async () => {
    const d = await Daemon.start(['--abi', '2.6.35', '--max-open-files', '200', '--paused']);
    try {
      // nobody opens 600 files of the guest and reads each (capturing its text), holding them all.
      const r = await run(
        'setpriv',
        [...AS_NOBODY, '/usr/bin/python3', '-c', HOARDER, d.path('pvlockfs/config'), '600'],
        {
          timeoutMs: 60_000,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      // The oldest were closed to make room (EIO on their next read); the newest still read.
      expect(r.stdout).toBe('opened 600, first EIO, last ok, fresh ok\n');
      d.proc.kill('SIGUSR2');
      await waitFor(() => /open files \d+/.test(d.output), 10_000, 'the diagnostics line');
      const open = Number(/open files (\d+)/.exec(d.output)?.[1]);
      expect(open).toBeLessThanOrEqual(200);
      expect(Number(/(\d+) closed to make room/.exec(d.output)?.[1])).toBeGreaterThanOrEqual(400);
      expect(await cat(d.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    } finally {
      await d.cleanup();
    }
  });

  it('a 10-minute advance_ns is stepped in slices: reads are served meanwhile, and SIGTERM ends it and unmounts', async () => {
    const d = await Daemon.start(['--paused', '--vcpus', '64', '--pcpus', '32']);
    const writer = spawn(
      'sh',
      ['-c', 'echo 600000000000 > "$1"; echo "exit $?"', 'sh', d.path('pvlockfs/advance_ns')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let said = '';
    writer.stdout.on('data', (b: Buffer) => (said += b.toString()));
    writer.stderr.on('data', (b: Buffer) => (said += b.toString()));
    const writerDone = new Promise<void>((r) => writer.on('exit', () => r()));
    try {
      // A read is answered while the step runs (the time it shows is part of the way).
      await waitFor(
        async () => Number(await cat(d.path('pvlockfs/sim_time_ns'))) > 0,
        30_000,
        'sim_time_ns to move while the step runs',
      );
      expect(Number(await cat(d.path('pvlockfs/sim_time_ns')))).toBeLessThan(600e9);
      expect(await write(d.path('pvlockfs/running'), '1'), d.output).toMatch(
        /Device or resource busy/,
      );
      d.proc.kill('SIGTERM');
      expect(
        await d.exit(30_000, 'the daemon to act on SIGTERM in the middle of the step'),
        d.output,
      ).toBe(0);
      expect(await isMounted(d.mnt)).toBe(false);
      // The writer got ECANCELED (sh would retry EINTR for ever) and gave up.
      await writerDone;
      expect(said).toMatch(/exit [1-9]/);
    } finally {
      if (writer.exitCode === null) writer.kill('SIGKILL');
      await d.cleanup();
    }
  });

  it('scripts: a FIFO is refused at once (never waited on), a 128k-character line is refused in one pass', async () => {
    const fifo = join(base, 'script.fifo');
    expect((await run('mkfifo', [fifo])).code).toBe(0);
    const mnt = await fresh('fifo-mount');
    const r = await run(LAUNCHER, ['mount', mnt, '--script', fifo], { timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--script .*script\.fifo: cannot read it \(.*is not a regular file\)/);
    expect(await isMounted(mnt)).toBe(false);
    const long = join(base, 'long.script');
    await fsp.writeFile(long, `0 ${'='.repeat(131_072)} x\n`);
    const l = await run(LAUNCHER, ['run', '--script', long], { timeoutMs: 20_000 });
    expect(l.code).toBe(2);
    expect(l.stderr).toMatch(/long\.script:1:1: line longer than 4096 characters/);
    // A file other users may not read is never quoted in a message.
    const secret = join(base, 'secret.script');
    await fsp.writeFile(secret, 'root:$6$hash:19000:0:99999:7:::\n', { mode: 0o600 });
    const s = await run(LAUNCHER, ['run', '--script', secret]);
    expect(s.code).toBe(2);
    expect(s.stderr).not.toMatch(/hash|root:/);
  });

  it('SIGTERM unmounts its own mount and its bind mounts, and never a filesystem mounted on top of it', async () => {
    const d = await Daemon.start();
    const bind = await fresh('bind-of-mount');
    expect((await run('mount', ['--bind', d.mnt, bind])).code).toBe(0);
    ownMounts.push(bind);
    expect(await cat(join(bind, 'kvm/spinlocks/timeout'))).toBe('1024\n');
    expect(await d.stop(), d.output).toBe(0);
    expect(await isMounted(d.mnt)).toBe(false);
    expect(await isMounted(bind)).toBe(false);

    const covered = await fresh('covered');
    const e = await Daemon.start([], covered);
    expect((await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'pvl-on-top', covered])).code).toBe(
      0,
    );
    ownMounts.push(covered);
    try {
      expect(await e.stop(), e.output).toBe(1);
      expect(e.output).toMatch(/pvl-on-top \(tmpfs\) is mounted on top of it and was left alone/);
      expect(e.output).not.toMatch(/unmounted/);
      // The tmpfs is still there, on top.
      const top = (await fsp.readFile('/proc/self/mountinfo', 'utf8'))
        .split('\n')
        .filter((l) => l.split(' ')[4] === covered)
        .pop();
      expect(top).toMatch(/ - tmpfs pvl-on-top /);
    } finally {
      await run('umount', [covered]);
      await run('umount', ['-l', covered]);
    }
  });

  it('the trace directory is opened once: swapped for a symlink later, recordings still land in it', async () => {
    const dir = await fresh('traces');
    const elsewhere = await fresh('elsewhere');
    const d = await Daemon.start(['--paused', '--trace-dir', dir]);
    try {
      await fsp.rename(dir, `${dir}.moved`);
      await fsp.symlink(elsewhere, dir);
      expect(await write(d.path('pvlockfs/trace_ns'), '1000000')).toBe('');
      expect(await write(d.path('pvlockfs/advance_ns'), '2000000')).toBe('');
      expect(await fsp.readdir(`${dir}.moved`)).toEqual(['pvlockfs-trace-0ns.json']);
      expect(await fsp.readdir(elsewhere)).toEqual([]);
    } finally {
      await d.cleanup();
    }
    // run --trace through a directory symlink that another user owns: refused, nothing written.
    const home = await fresh('home2', 'nobody');
    const lnk = join(home, 'lnk');
    await fsp.symlink(elsewhere, lnk);
    expect((await run('chown', ['-h', 'nobody', lnk])).code).toBe(0);
    const r = await run(LAUNCHER, ['run', '--sim-time', '10ms', '--trace', join(lnk, 't.json')], {
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is a symlink that another user/);
    expect(await fsp.readdir(elsewhere)).toEqual([]);
  });

  it('a daemon killed mid-recording leaves its unfinished file behind; the next start removes it', async () => {
    const dir = await fresh('killed-traces');
    const first = await Daemon.start(['--paused', '--trace-dir', dir]);
    expect(await write(first.path('pvlockfs/trace_ns'), '1000000000')).toBe('');
    expect(await write(first.path('pvlockfs/advance_ns'), '100000000')).toBe('');
    const temps = (await fsp.readdir(dir)).filter((n) => n.endsWith('.tmp'));
    expect(temps).toHaveLength(1);
    first.proc.kill('SIGKILL');
    await first.exit(15_000, 'the killed daemon to exit');
    await run('umount', ['-l', first.mnt]);
    const second = await Daemon.start(['--paused', '--trace-dir', dir]);
    try {
      expect(await fsp.readdir(dir)).toEqual([]);
      expect(second.output).toMatch(
        /removed 1 unfinished recording left in .* by a daemon that was killed/,
      );
    } finally {
      await second.cleanup();
    }
  });

  it('smaller things: SIGHUP ignored under nohup stays ignored, FUSE_NATIVE_PREBUILD is not obeyed, a newline in a path cannot forge a line, histo does not wait on a FIFO', async () => {
    const traces = await fresh('odd\nname=1');
    const empty = await fresh('no-binding-here');
    const mnt = await fresh('nohup-mount');
    const proc = spawn('nohup', [LAUNCHER, 'mount', mnt, '--trace-dir', traces], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FUSE_NATIVE_PREBUILD: empty },
    });
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    try {
      await waitFor(
        () => out.includes('mounted at') || proc.exitCode !== null,
        30_000,
        'the mount',
      );
      expect(out).toContain('mounted at');
      proc.kill('SIGHUP');
      // Still serving after the hangup (a read is answered by the same daemon).
      expect(await cat(join(mnt, 'kvm/spinlocks/timeout'))).toBe('1024\n');
      expect(proc.exitCode).toBeNull();
      const st = keyValues(await cat(join(mnt, 'pvlockfs/trace_status')));
      expect(st.dir).toBe(`${traces.replace('\n', '\\n')}`);
      const config = await cat(join(mnt, 'pvlockfs/config'));
      expect(config).not.toMatch(/^name=1$/m);
      expect(config).toMatch(/^trace_dir=.*odd\\nname=1$/m);
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      if (await isMounted(mnt)) await run('umount', ['-l', mnt]);
    }
    const fifo = join(base, 'histo.fifo');
    expect((await run('mkfifo', [fifo])).code).toBe(0);
    const h = await run(LAUNCHER, ['histo', fifo], { timeoutMs: 20_000 });
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/histo\.fifo is not a regular file/);
  });

  it('root refuses to run a launcher whose files another user can change', async () => {
    const pkg = await fresh('pkg');
    await fsp.mkdir(join(pkg, 'bin'));
    await fsp.copyFile(join(ROOT, 'bin', 'pvlockfs'), join(pkg, 'bin', 'pvlockfs'));
    await fsp.chmod(join(pkg, 'bin', 'pvlockfs'), 0o755);
    await fsp.copyFile(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    await fsp.symlink(join(ROOT, 'dist'), join(pkg, 'dist'));
    await fsp.symlink(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const version = JSON.parse(await fsp.readFile(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const launch = (env: NodeJS.ProcessEnv = {}) =>
      run(join(pkg, 'bin', 'pvlockfs'), ['version'], { env: { ...process.env, ...env } });
    expect((await run('chown', ['-R', 'nobody', pkg])).code).toBe(0);
    const refused = await launch();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^pvlockfs: refusing to run as root: .*pkg.* belongs to another user/,
    );
    expect((await launch({ PVLOCKFS_TRUST_FILES: '1' })).stdout).toBe(
      `pvlockfs ${version.version}\n`,
    );
    expect((await run('chown', ['-R', 'root:root', pkg])).code).toBe(0);
    await fsp.chmod(join(pkg, 'package.json'), 0o666);
    expect((await launch()).stderr).toMatch(
      /package\.json belongs to another user or is writable by others/,
    );
    await fsp.chmod(join(pkg, 'package.json'), 0o644);
    const ok = await launch();
    expect(ok.stdout, ok.stderr).toBe(`pvlockfs ${version.version}\n`);
  });
});

/**
 * The attacker of the mount-point race: waits (inotify, IN_CLOSE_NOWRITE) until root has read
 * `PARENT/m`, then renames it away and puts a symlink to `TARGET` in its place.
 */
const SWAPPER = `
import ctypes, os, sys
parent, target = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, os.path.join(parent, 'm').encode(), 0x10) < 0:
    print('failed: inotify', flush=True); sys.exit(1)
print('ready', flush=True)
os.read(fd, 4096)
try:
    os.rename(os.path.join(parent, 'm'), os.path.join(parent, 'm.old'))
    os.symlink(target, os.path.join(parent, 'm'))
    print('swapped', flush=True)
except OSError as e:
    print('failed:', e, flush=True)
`;

/**
 * Opens FILE N times and reads each (capturing its text), holding every descriptor; then reads
 * the first again (closed to make room: EIO) and the last (still open), and root-style reads
 * the file afresh. Prints what it saw in one line.
 */
const HOARDER = `
import errno, os, resource, sys
path, n = sys.argv[1], int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, n + 64)), hard))
fds = []
for i in range(n):
    fd = os.open(path, os.O_RDONLY)
    os.read(fd, 1)
    fds.append(fd)
def again(fd):
    try:
        os.read(fd, 1)
        return 'ok'
    except OSError as e:
        return errno.errorcode[e.errno]
with open(path) as f:
    fresh = 'ok' if f.read() else 'empty'
print('opened %d, first %s, last %s, fresh %s' % (len(fds), again(fds[0]), again(fds[-1]), fresh))
`;
