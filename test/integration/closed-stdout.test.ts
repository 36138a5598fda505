import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cat,
  describeFuse,
  isMounted,
  LAUNCHER,
  ROOT,
  run,
  waitFor,
  writeSpinlocks,
} from './harness';

/** What a command did with its standard output closed from the start. */
interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs a command whose standard output is a pipe nobody reads any more (the reader closed it
 * before the command wrote: `cmd | true`, `| head` that has read enough, a restarted shipper), and
 * waits for it to end; a command that does not end within the bound is killed (by its pid) and
 * the test fails saying so.
 */
function withStdoutClosed(cmd: string, args: string[], boundMs = 120_000): Promise<Ended> {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not end within ${boundMs} ms`));
    }, boundMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

/** Ends quietly: exit 0 or 141 (a shell's 128 + SIGPIPE), and no stack trace or error on stderr. */
function expectQuiet(e: Ended, what: string): void {
  // Killed by SIGPIPE is what a shell reports as 141 (a shell script's writer, e.g. awk).
  const status = e.signal === 'SIGPIPE' ? 141 : e.code;
  expect([0, 141], `${what}: ${e.signal ?? ''} ${e.stderr}`).toContain(status);
  // (A busy machine may show a run's progress on stderr: that is all it may say.)
  expect(e.stderr, what).not.toMatch(/Error|EPIPE|\n\s+at |internal/);
}

describeFuse('every command, with its standard output closed early', () => {
  let dir: string;
  let spinlocks: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-closed-'));
    spinlocks = join(dir, 'kvm', 'spinlocks');
    await writeSpinlocks(spinlocks);
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  const cases: [string, () => string[]][] = [
    ['run', () => ['run', '--sim-time', '5s']],
    ['run --json', () => ['run', '--sim-time', '2s', '--json']],
    [
      'run with several guests',
      () => ['run', '--guest', 'a:vcpus=2', '--guest', 'b:vcpus=2', '--sim-time', '2s'],
    ],
    [
      'experiment',
      () => [
        'experiment',
        ...['--scenarios', 'A', '--overcommit', '1', '--locks', 'ticket', '--reps', '1'],
        ...['--work', '100ms'],
      ],
    ],
    ['top', () => ['top', dir]],
    ['histo', () => ['histo', join(spinlocks, 'histo_total')]],
    ['help', () => ['help']],
    ['help run', () => ['help', 'run']],
    ['run --help', () => ['run', '--help']],
    ['version', () => ['version']],
  ];
  for (const [name, args] of cases) {
    it(`${name}: ends quietly`, async () => {
      expectQuiet(await withStdoutClosed(LAUNCHER, args()), name);
    });
  }

  it('the exporter and the collectd generator: end quietly', async () => {
    expectQuiet(
      await withStdoutClosed(join(ROOT, 'scripts', 'pvlockfs-exporter'), [spinlocks]),
      'pvlockfs-exporter',
    );
    expectQuiet(
      await withStdoutClosed(join(ROOT, 'scripts', 'pvlockfs-collectd-conf'), [spinlocks]),
      'pvlockfs-collectd-conf',
    );
  });

  it('mount: the daemon cannot say it is ready, and serves anyway; SIGTERM unmounts it, exit 0', async () => {
    const mnt = join(dir, 'mnt');
    await fsp.mkdir(mnt);
    const child = spawn(LAUNCHER, ['mount', mnt, '--paused'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await waitFor(() => isMounted(mnt), 120_000, `the mount at ${mnt}`);
      await waitFor(
        async () => (await run('cat', [join(mnt, 'pvlockfs/sim_time_ns')])).code === 0,
        120_000,
        'the mount to answer',
      );
      expect(await cat(join(mnt, 'pvlockfs/sim_time_ns'))).toBe('0\n');
      child.kill('SIGTERM');
      expect(await exited, stderr).toBe(0);
      expect(stderr).not.toMatch(/Error|EPIPE|\n\s+at /);
      expect(await isMounted(mnt)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (await isMounted(mnt)) await run('umount', ['-l', mnt]);
    }
  }, 300_000);
});
