import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCommand, LAUNCHER, run, waitFor, writeSpinlocks } from './harness';

const made: string[] = [];

describe('pvlockfs top on a plain directory laid out like a guest debugfs', () => {
  beforeAll(async () => {
    const why = await ensureCommand('tmux', 'tmux');
    if (why) throw new Error(`these tests drive top in tmux: ${why}`);
  }, 400_000);
  afterAll(async () => {
    for (const d of made) await fsp.rm(d, { recursive: true, force: true });
  });

  /** A directory laid out like a guest's debugfs root; returns the root. */
  async function fakeDebugfs(): Promise<string> {
    const root = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-debugfs-'));
    made.push(root);
    await writeSpinlocks(join(root, 'kvm', 'spinlocks'));
    return root;
  }

  it('draws an 80×24 frame in tmux from /sys/kernel/debug-style files and quits on q', async () => {
    const root = await fakeDebugfs();
    const session = `pvlockfs-top-${process.pid}`;
    await run('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '80',
      '-y',
      '24',
      `${LAUNCHER} top ${root}`,
    ]);
    try {
      let screen = '';
      await waitFor(
        async () => {
          screen = Buffer.from(
            (await run('tmux', ['capture-pane', '-p', '-t', session])).stdout,
            'latin1',
          ).toString('utf8');
          return /knobs: timeout 2048/.test(screen);
        },
        60_000,
        'a frame',
      );
      const lines = screen.replace(/\n+$/, '').split('\n');
      expect(lines.length).toBeLessThanOrEqual(24);
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
      expect(screen).toMatch(/taken 100 \(0\/s\)/);
      expect(screen).toMatch(/no samples this interval/);
      await run('tmux', ['send-keys', '-t', session, 'q']);
      await waitFor(
        async () => (await run('tmux', ['has-session', '-t', session])).code !== 0,
        20_000,
        'top to quit',
      );
    } finally {
      await run('tmux', ['kill-session', '-t', session]);
    }
  }, 150_000);

  it('when the directory goes away (an unmounted guest) it says so on stderr and exits 1', async () => {
    const root = await fakeDebugfs();
    const status = join(root, 'status');
    const session = `pvlockfs-top-gone-${process.pid}`;
    await run('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '80',
      '-y',
      '24',
      `${LAUNCHER} top ${root} 2>${root}/err; echo $? >${status}`,
    ]);
    try {
      await waitFor(
        async () =>
          /knobs: timeout 2048/.test(
            (await run('tmux', ['capture-pane', '-p', '-t', session])).stdout,
          ),
        60_000,
        'a frame',
      );
      await fsp.rm(join(root, 'kvm'), { recursive: true });
      // The shell creates the file before echo writes to it: wait for the whole line.
      await waitFor(
        () =>
          fsp.readFile(status, 'utf8').then(
            (s) => s.endsWith('\n'),
            () => false,
          ),
        60_000,
        'top to exit (its status written by the shell)',
      );
      expect(await fsp.readFile(status, 'utf8')).toBe('1\n');
      expect(await fsp.readFile(join(root, 'err'), 'utf8')).toMatch(
        /^pvlockfs top: .*kvm\/spinlocks went away \(ENOENT\): the guest was unmounted or its daemon stopped\n$/,
      );
    } finally {
      await run('tmux', ['kill-session', '-t', session]);
    }
  }, 150_000);

  it('piped into head, it ends quietly with exit 141 (as yes | head does) when head has read enough', async () => {
    const root = await fakeDebugfs();
    const r = await run(
      'bash',
      [
        '-c',
        '"$1" top "$2" < /dev/null | head -c 20 > /dev/null; echo "${PIPESTATUS[0]}"',
        'bash',
        LAUNCHER,
        root,
      ],
      { timeoutMs: 30_000 },
    );
    expect(r.stdout).toBe('141\n');
    expect(r.stderr).toBe('');
  });

  it('refuses a directory without the layout, naming it', async () => {
    const r = await run(LAUNCHER, ['top', tmpdir()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no kvm\/spinlocks directory/);
  });
});
