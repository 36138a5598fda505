import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cat,
  cleanupAll,
  Daemon,
  describeFuse,
  ensureCommand,
  ROOT,
  run,
  waitFor,
} from './harness';

/** The commands of the README's tour, in order (comments stripped). */
async function tourLines(): Promise<string[]> {
  const readme = await fsp.readFile(join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- tour:begin -->\n```sh\n([\s\S]*?)```\n<!-- tour:end -->/.exec(readme);
  if (!block) throw new Error('README has no tour block');
  return block[1]
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '');
}

/** Runs `top` in a real terminal (tmux, 80×24) and returns what the screen showed. */
async function topInTmux(cmd: string, cwd: string): Promise<{ screen: string; exited: boolean }> {
  const session = `pvlockfs-tour-${process.pid}`;
  await run('tmux', ['new-session', '-d', '-s', session, '-x', '80', '-y', '24', '-c', cwd, cmd]);
  try {
    let screen = '';
    await waitFor(
      async () => {
        screen = Buffer.from(
          (await run('tmux', ['capture-pane', '-p', '-t', session])).stdout,
          'latin1',
        ).toString('utf8');
        return /bucket/.test(screen) && /taken/.test(screen);
      },
      15_000,
      'top to draw a frame',
    );
    await run('tmux', ['send-keys', '-t', session, 'q']);
    let exited = false;
    await waitFor(
      async () => (exited = (await run('tmux', ['has-session', '-t', session])).code !== 0),
      5_000,
      'top to quit on q',
    );
    return { screen, exited };
  } finally {
    await run('tmux', ['kill-session', '-t', session]);
  }
}

describeFuse('the README tour, command by command', () => {
  let d: Daemon;
  let work: string;
  beforeAll(async () => {
    const why = await ensureCommand('tmux', 'tmux');
    if (why) throw new Error(`the tour needs tmux: ${why}`);
    // A scratch directory stands in for the project directory: ./mount there, scripts linked in.
    work = await fsp.mkdtemp(join(ROOT, 'test', '.tour-'));
    await fsp.symlink(join(ROOT, 'scripts'), join(work, 'scripts'));
    await fsp.mkdir(join(work, 'mount'));
    d = await Daemon.start([], join(work, 'mount'));
  }, 400_000);
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  it('every command runs and does what its comment says', async () => {
    const lines = await tourLines();
    expect(lines[0]).toBe('npm start');
    let slowBefore = 0;
    for (const line of lines.slice(1)) {
      if (line.startsWith('scripts/pvlockfs top')) {
        const { screen, exited } = await topInTmux(line, work);
        for (const l of screen.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
        expect(screen).toMatch(/timeout 1024/);
        expect(exited).toBe(true);
        continue;
      }
      const r = await run('sh', ['-c', `cd "$1" && ${line}`, 'sh', work], { timeoutMs: 30_000 });
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      if (line === 'cat mount/kvm/spinlocks/taken_slow') slowBefore = Number(r.stdout);
      // The tour's sleeps are for a person; the test waits for what they promise (a loaded
      // machine may take longer) instead of judging by what happened within the sleep.
      if (line.startsWith('sleep 2')) {
        await waitFor(
          async () => Number(await cat(d.path('kvm/spinlocks/taken_slow'))) > slowBefore,
          60_000,
          'taken_slow to grow after timeout=1',
        );
      }
      if (line.includes('cat mount/kvm/spinlocks/zero_stats')) {
        await waitFor(
          async () => (await cat(d.path('kvm/spinlocks/zero_stats'))) === '0\n',
          60_000,
          'the lazy reset to be applied',
        );
      }
      if (line.includes('histo_blocked'))
        expect(Buffer.from(r.stdout, 'latin1').toString('utf8')).toMatch(/µs │/);
      if (line.includes('--svg'))
        expect((await fsp.readFile(join(work, 'spinning.svg'), 'utf8')).startsWith('<svg')).toBe(
          true,
        );
      if (line.includes('exporter')) expect(r.stdout).toMatch(/^# HELP kvm_spinlock_taken_total/);
    }
    expect((await run('cat', [d.path('pvlockfs/hogs')])).stdout).toBe('12\n');
    // Ctrl-C in terminal 1.
    expect(await d.stop('SIGINT')).toBe(0);
  });
});
