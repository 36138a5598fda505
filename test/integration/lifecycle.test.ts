import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  cat,
  cleanupAll,
  Daemon,
  describeFuse,
  isMounted,
  LAUNCHER,
  run,
  waitFor,
} from './harness';

const made: string[] = [];
async function tmp(): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-life-'));
  made.push(dir);
  return dir;
}

describeFuse('daemon lifecycle and refusals', () => {
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
    for (const dir of made) {
      if (await isMounted(dir)) await run('umount', ['-l', dir]);
      expect(await isMounted(dir)).toBe(false);
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s unmounts cleanly and exits 0', async (sig) => {
    const d = await Daemon.start([], await tmp());
    expect(await cat(d.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    expect(await d.stop(sig)).toBe(0);
    expect(await isMounted(d.mnt)).toBe(false);
    expect(d.output).toMatch(new RegExp(`${sig}: unmounted`));
    expect(d.output).not.toMatch(/cannot keep up/);
  });

  it('a signal that arrives twice at once (sent to the daemon and to its process group, as timeout(1) does) unmounts cleanly and exits 0', async () => {
    // A guest that keeps the main thread busy (behind at this speed), as when it happened.
    const d = await Daemon.start(['--speed', '1000'], await tmp());
    expect(await cat(d.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    d.proc.kill('SIGINT');
    expect(await d.stop('SIGINT')).toBe(0);
    expect(await isMounted(d.mnt)).toBe(false);
    expect(d.output).toMatch(/SIGINT: unmounted/);
    expect(d.output).not.toMatch(/again/);
  });

  it('a speed the machine cannot reach is said once on stderr; the files keep answering', async () => {
    const d = await Daemon.start(['--speed', '1000'], await tmp());
    await waitFor(() => /cannot keep up/.test(d.output), 15_000, 'the falling-behind notice');
    expect(d.output).toMatch(
      /pvlockfs: the simulation cannot keep up with speed 1000: it reaches about \d+(\.\d+)? simulated ns per wall ns here/,
    );
    const before = Number(await cat(d.path('pvlockfs/sim_time_ns')));
    await waitFor(
      async () => Number(await cat(d.path('pvlockfs/sim_time_ns'))) > before,
      30_000,
      'simulated time to move on',
    );
    expect(d.output.match(/cannot keep up/g)).toHaveLength(1);
    expect(await d.stop('SIGTERM')).toBe(0);
  });

  it('after kill -9 the mount is stale, and the next start on the same directory recovers it', async () => {
    const dir = await tmp();
    const d = await Daemon.start([], dir);
    expect(await d.stop('SIGKILL')).toBe(null);
    expect(await isMounted(dir)).toBe(true);
    const stale = await run('ls', [dir]);
    expect(stale.stderr).toMatch(/Transport endpoint is not connected/);
    const again = await Daemon.start([], dir);
    expect(again.output).toMatch(/stale mount/);
    expect(await cat(again.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    expect(await again.stop('SIGTERM')).toBe(0);
    expect(await isMounted(dir)).toBe(false);
  });

  it('unmounted from outside (umount -l), the daemon still exits 0 on SIGTERM', async () => {
    const d = await Daemon.start([], await tmp());
    expect((await run('umount', ['-l', d.mnt])).code).toBe(0);
    expect(await d.stop('SIGTERM'), d.output).toBe(0);
    expect(await isMounted(d.mnt)).toBe(false);
  });

  it('refuses a missing mountpoint, a file and a non-empty directory with exit 2, touching nothing', async () => {
    const dir = await tmp();
    const missing = await run(LAUNCHER, ['mount', join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
    await fsp.writeFile(join(dir, 'afile'), 'keep me');
    const file = await run(LAUNCHER, ['mount', join(dir, 'afile')]);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/is not a directory/);
    const nonEmpty = await run(LAUNCHER, ['mount', dir]);
    expect(nonEmpty.code).toBe(2);
    expect(nonEmpty.stderr).toMatch(/is not empty/);
    expect(await fsp.readFile(join(dir, 'afile'), 'utf8')).toBe('keep me');
    expect(await isMounted(dir)).toBe(false);
  });

  it('refuses to mount twice on one directory with exit 1; the first mount keeps working', async () => {
    const d = await Daemon.start([], await tmp());
    const second = await run(LAUNCHER, ['mount', d.mnt]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already a mount point/);
    expect(await cat(d.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    expect(await d.stop('SIGTERM')).toBe(0);
  });

  it('bad options: a clear message naming the flag, exit 2', async () => {
    const r = await run(LAUNCHER, ['mount', '--abi', '2.4', await tmp()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--abi: '2.4' is not valid \(expected modern \| 2.6.35\)/);
    const s = await run(LAUNCHER, ['mount', '--speed', 'fast']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--speed/);
  });

  it('readers never hang: a reader holding a file open across SIGTERM gets an answer', async () => {
    const d = await Daemon.start([], await tmp());
    const script =
      'import os,sys,time\nfd=os.open(sys.argv[1], os.O_RDONLY)\nprint("open", flush=True)\ntime.sleep(1)\ntry:\n  print(len(os.read(fd, 100)))\nexcept OSError as e:\n  print("errno", e.errno)';
    const reader = spawn('python3', ['-c', script, d.path('kvm/spinlocks/taken')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    reader.stdout.on('data', (b: Buffer) => (out += b.toString()));
    reader.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((res) => reader.on('exit', res));
    const killer = setTimeout(() => reader.kill('SIGKILL'), 15_000);
    try {
      await waitFor(
        () => out.includes('open') || err !== '',
        10_000,
        'the reader to open its file',
      );
      expect(await d.stop('SIGTERM'), d.output).toBe(0);
      expect(await exited).toBe(0);
    } finally {
      clearTimeout(killer);
    }
    expect(err).toBe('');
    expect(out).toMatch(/^open\n(\d+|errno \d+)\n$/);
  });

  it('waits are bounded: readiness is polled, never slept on', async () => {
    await expect(waitFor(() => false, 50, 'nothing')).rejects.toThrow(/timed out/);
  });
});
