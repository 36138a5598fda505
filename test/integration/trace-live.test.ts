import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, LAUNCHER, run, waitFor } from './harness';
import { checkTrace, TraceFile } from './trace-check';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-live-trace-'));
});
afterAll(async () => {
  expect(await cleanupAll()).toEqual([]);
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Writes through bash's echo; returns bash's complaint (empty when the write succeeded). */
const write = async (d: Daemon, file: string, value: string): Promise<string> =>
  (
    await run('bash', ['-c', 'echo "$1" > "$2"', 'bash', value, d.path(file)], {
      timeoutMs: 60_000,
    })
  ).stderr;

function status(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

const CFG = ['--lock', 'ticket', '--pinning', 'B', '--hogs', '4'];

describeFuse('the mount records a timeline through pvlockfs/trace_ns', () => {
  it('a recording of a stepped guest: exact window, knob writes marked, counts as the instruments', async () => {
    const out = join(dir, 'stepped');
    await fsp.mkdir(out);
    const d = await Daemon.start(['--paused', '--trace-dir', out, ...CFG]);
    try {
      expect((await run('stat', ['-c', '%a', d.path('pvlockfs/trace_ns')])).stdout).toBe('644\n');
      expect(status(await cat(d.path('pvlockfs/trace_status')))).toMatchObject({
        recording: '0',
        dir: out,
        written: '0',
      });
      expect(await write(d, 'pvlockfs/advance_ns', '100000000')).toBe('');
      expect(await write(d, 'pvlockfs/trace_ns', '200000000')).toBe('');
      expect(await cat(d.path('pvlockfs/trace_ns'))).toBe('200000000\n');
      expect(await write(d, 'pvlockfs/trace_ns', '5')).toMatch(/Device or resource busy/);
      expect(await write(d, 'pvlockfs/advance_ns', '50000000')).toBe('');
      expect(await cat(d.path('pvlockfs/trace_ns'))).toBe('150000000\n');
      // A knob written inside the window is a marked moment. zero_stats only zeroes the files,
      // the model runs on unchanged: the counts below still equal a run without the write.
      expect(await write(d, 'kvm/spinlocks/zero_stats', '1')).toBe('');
      // One advance past the window's end: the driver stops there, writes the file, goes on.
      expect(await write(d, 'pvlockfs/advance_ns', '300000000')).toBe('');
      expect(await cat(d.path('pvlockfs/sim_time_ns'))).toBe('450000000\n');
      const st = status(await cat(d.path('pvlockfs/trace_status')));
      expect(st).toMatchObject({
        recording: '0',
        written: '1',
        last_file: join(out, 'pvlockfs-trace-100000000ns.json'),
        last_from_ns: '100000000',
        last_to_ns: '300000000',
        last_truncated: '0',
        last_error: '',
      });
      const t = JSON.parse(await fsp.readFile(st.last_file, 'utf8')) as TraceFile;
      const c = checkTrace(t);
      expect(c.problems).toEqual([]);
      expect(c.firstTs).toBe(100_000);
      expect(c.lastTs).toBe(300_000);
      expect(c.instants['zero_stats applied']).toBe(1);
      // The same guest run headless to the window's ends: the instruments over the window.
      const at = async (t: string): Promise<Record<string, number>> =>
        (
          JSON.parse(
            (await run(LAUNCHER, ['run', '--json', '--sim-time', t, ...CFG], { timeoutMs: 60_000 }))
              .stdout,
          ) as { locks: Record<string, number> }
        ).locks;
      const [a, b] = await Promise.all([at('100ms'), at('300ms')]);
      expect(c.instants['holder preempted'] ?? 0).toBe(
        b.host_preemptions_of_holders - a.host_preemptions_of_holders,
      );
      expect(c.instants['granted while preempted'] ?? 0).toBe(
        b.grants_to_preempted_waiters - a.grants_to_preempted_waiters,
      );
      expect(c.instants['holder preempted']).toBeGreaterThan(0);
    } finally {
      await d.cleanup();
    }
  });

  it('0 ends a recording early; above 60 s is EINVAL; Ctrl-C writes the one in progress; no file is replaced', async () => {
    const out = join(dir, 'running');
    await fsp.mkdir(out);
    const d = await Daemon.start(['--trace-dir', out, ...CFG]);
    try {
      expect(await write(d, 'pvlockfs/trace_ns', '60000000001')).toMatch(/Invalid argument/);
      expect(await write(d, 'pvlockfs/trace_ns', '0')).toBe(''); // nothing to end: no-op
      expect(await write(d, 'pvlockfs/trace_ns', '60000000000')).toBe('');
      await waitFor(
        async () => Number(await cat(d.path('pvlockfs/sim_time_ns'))) > 50e6,
        60_000,
        'the guest to run 50 ms',
      );
      expect(await write(d, 'pvlockfs/trace_ns', '0')).toBe('');
      const st = status(await cat(d.path('pvlockfs/trace_status')));
      expect(st.recording).toBe('0');
      expect(st.written).toBe('1');
      expect(Number(st.last_to_ns)).toBeLessThan(60e9);
      expect(
        checkTrace(JSON.parse(await fsp.readFile(st.last_file, 'utf8')) as TraceFile).problems,
      ).toEqual([]);
      // A file planted where the next recording would go is kept; the recording gets a new name.
      expect(await write(d, 'pvlockfs/running', '0')).toBe('');
      const now = (await cat(d.path('pvlockfs/sim_time_ns'))).trim();
      const planted = join(out, `pvlockfs-trace-${now}ns.json`);
      await fsp.symlink('/etc/passwd', planted);
      expect(await write(d, 'pvlockfs/trace_ns', '1000000000')).toBe('');
      expect(await write(d, 'pvlockfs/running', '1')).toBe('');
      await d.stop('SIGINT');
      expect(d.output).toContain(`wrote ${join(out, `pvlockfs-trace-${now}ns-2.json`)}`);
      expect((await fsp.lstat(planted)).isSymbolicLink()).toBe(true);
      const t = JSON.parse(
        await fsp.readFile(join(out, `pvlockfs-trace-${now}ns-2.json`), 'utf8'),
      ) as TraceFile;
      expect(checkTrace(t).problems).toEqual([]);
      expect((await fsp.readdir(out)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    } finally {
      await d.cleanup();
    }
  });

  it('a directory it cannot write: the write fails with EIO and trace_status says why', async () => {
    const ro = join(dir, 'gone');
    await fsp.mkdir(ro);
    const d = await Daemon.start(['--trace-dir', ro, ...CFG]);
    try {
      await fsp.rmdir(ro);
      expect(await write(d, 'pvlockfs/trace_ns', '1000000')).toMatch(/Input\/output error/);
      const st = status(await cat(d.path('pvlockfs/trace_status')));
      expect(st.recording).toBe('0');
      expect(st.last_error).toMatch(/cannot write there \(ENOENT\)/);
    } finally {
      await d.cleanup();
    }
    const r = await run(LAUNCHER, ['mount', join(dir, 'm'), '--trace-dir', join(dir, 'nope')], {
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--trace-dir .*nope: ENOENT/);
  });
});
