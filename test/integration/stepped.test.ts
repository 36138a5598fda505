import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, LAUNCHER, run, waitFor } from './harness';

/** `grep -r .` of a mount, as an agent sees it all at once. */
async function grepAll(d: Daemon): Promise<string> {
  const r = await run('grep', ['-r', '.', '.'], { cwd: d.mnt });
  if (r.code !== 0) throw new Error(`grep -r . ${d.mnt}: ${r.stderr}`);
  return r.stdout.split('\n').sort().join('\n');
}

const write = async (d: Daemon, file: string, value: string): Promise<string> =>
  (
    await run('bash', ['-c', 'echo "$1" > "$2"', 'bash', value, d.path(file)], {
      timeoutMs: 60_000,
    })
  ).stderr;

/** The steps both mounts go through: advances (ns) and knob writes, in order. */
const STEPS: ([kind: 'advance', ns: number] | [kind: 'knob', file: string, value: string])[] = [
  ['advance', 50e6],
  ['knob', 'kvm/spinlocks/timeout', '1'],
  ['advance', 30e6],
  ['knob', 'pvlockfs/hogs', '12'],
  ['advance', 120e6],
  ['knob', 'kvm/spinlocks/zero_stats', '1'],
  ['advance', 1],
  ['advance', 99_999_999],
  ['knob', 'kvm/spinlocks/timeout', '1024'],
  ['advance', 200e6],
];

describeFuse('a stepped clock: --paused and pvlockfs/advance_ns', () => {
  let a: Daemon;
  let b: Daemon;
  let work: string;
  beforeAll(async () => {
    work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-stepped-'));
    [a, b] = await Promise.all([
      Daemon.start(['--paused', '--seed', '7']),
      Daemon.start(['--paused', '--seed', '7']),
    ]);
  });
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
    await fsp.rm(work, { recursive: true, force: true });
  });

  it('starts stopped at 0 ns: nothing moves until it is stepped', async () => {
    expect(await cat(a.path('pvlockfs/running'))).toBe('0\n');
    expect(await cat(a.path('pvlockfs/sim_time_ns'))).toBe('0\n');
    expect(await cat(a.path('kvm/spinlocks/taken'))).toBe('0\n');
    expect((await run('stat', ['-c', '%a', a.path('pvlockfs/advance_ns')])).stdout).toBe('200\n');
  });

  it('two mounts of one seed, driven through the same advances and writes, show byte-identical files after every step; run --script gives the same', async () => {
    let simNs = 0;
    const script: string[] = [];
    for (const step of STEPS) {
      if (step[0] === 'advance') {
        expect(await write(a, 'pvlockfs/advance_ns', String(step[1]))).toBe('');
        expect(await write(b, 'pvlockfs/advance_ns', String(step[1]))).toBe('');
        simNs += step[1];
        expect(await cat(a.path('pvlockfs/sim_time_ns'))).toBe(`${simNs}\n`);
      } else {
        expect(await write(a, step[1], step[2])).toBe('');
        expect(await write(b, step[1], step[2])).toBe('');
        script.push(`${simNs}ns ${step[1].split('/').pop()}=${step[2]}`);
      }
      expect(await grepAll(a), `after ${step.join(' ')}`).toBe(await grepAll(b));
    }
    expect(Number(await cat(a.path('kvm/spinlocks/taken')))).toBeGreaterThan(1000);
    // The same actions as a script of a headless run, to the same simulated time.
    const file = join(work, 'steps.script');
    await fsp.writeFile(file, `${script.join('\n')}\n`);
    const r = await run(
      LAUNCHER,
      ['run', '--seed', '7', '--sim-time', `${simNs}ns`, '--script', file],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const mounted = (await grepAll(a))
      .split('\n')
      .filter((l) => l.startsWith('./kvm/'))
      .map((l) => l.slice(2));
    expect(r.stdout.trim().split('\n').sort()).toEqual(mounted);
  });

  it('advance_ns while the guest runs is EBUSY; more than 10 simulated minutes at once is EINVAL', async () => {
    expect(await write(a, 'pvlockfs/running', '1')).toBe('');
    expect(await write(a, 'pvlockfs/advance_ns', '1000')).toMatch(/Device or resource busy/);
    expect(await write(a, 'pvlockfs/running', '0')).toBe('');
    expect(await write(a, 'pvlockfs/advance_ns', '600000000001')).toMatch(/Invalid argument/);
    expect(await write(a, 'pvlockfs/advance_ns', 'abc')).toMatch(/Invalid argument/);
  });
});

describeFuse('--script on a mount at --speed: each action at exactly its simulated instant', () => {
  let work: string;
  beforeAll(async () => {
    work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-script-'));
  });
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
    await fsp.rm(work, { recursive: true, force: true });
  });

  it('the incident replays: the guest stops at exactly the scripted instant, with the files run --script prints', async () => {
    const file = join(work, 'incident.script');
    await fsp.writeFile(
      file,
      '100ms hogs=12\n300ms timeout=1\n500ms zero_stats=1\n800ms running=0\n',
    );
    const d = await Daemon.start(['--speed', '2', '--seed', '11', '--script', file]);
    expect(d.output).toContain('4 scripted actions');
    await waitFor(
      async () => (await cat(d.path('pvlockfs/running'))) === '0\n',
      60_000,
      'the script to stop the guest at 800 ms',
    );
    expect(await cat(d.path('pvlockfs/sim_time_ns'))).toBe('800000000\n');
    expect(await cat(d.path('pvlockfs/hogs'))).toBe('12\n');
    expect(await cat(d.path('kvm/spinlocks/timeout'))).toBe('1\n');
    const r = await run(LAUNCHER, ['run', '--seed', '11', '--sim-time', '2s', '--script', file], {
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const mounted = await run('grep', ['-r', '.', 'kvm'], { cwd: d.mnt });
    expect(r.stdout.trim().split('\n').sort()).toEqual(mounted.stdout.trim().split('\n').sort());
    expect(await d.stop()).toBe(0);
  });

  it('a bad script is refused before anything is mounted: exit 2, FILE:LINE:COLUMN', async () => {
    const file = join(work, 'bad.script');
    await fsp.writeFile(file, '1s hogs=12\n2s tiemout=1\n');
    const mnt = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-test-'));
    const r = await run(LAUNCHER, ['mount', mnt, '--script', file], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `pvlockfs: ${file}:2:4: 'tiemout' is not a knob (expected hogs, running, timeout, zero_stats, reset_counters; or TIME fault EVENT)\nTry 'pvlockfs help'.\n`,
    );
    await fsp.rmdir(mnt);
  });
});
