import { ChildProcess, execFile, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from './bench-read';

const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];

/** Fills the trace directory (a small tmpfs) and empties it again, as a hostile user would. */
const FILLER = `while :; do
  dd if=/dev/zero of="$1/fill" bs=1M count=16 2>/dev/null
  sleep 0.5
  rm -f "$1/fill"
  sleep 0.5
done`;

/** Opens files of the mount in a loop, holding up to N at once, reading each; prints opens. */
const HOARDER = `
import os, resource, sys, time
root, n = sys.argv[1], int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
names = ['pvlockfs/config', 'kvm/spinlocks/taken', 'kvm/spinlocks/histo_total']
opened = 0
while True:
    fds = []
    for i in range(n):
        try:
            fd = os.open(os.path.join(root, names[i % 3]), os.O_RDONLY)
            os.read(fd, 64)
            fds.append(fd)
            opened += 1
        except OSError:
            pass
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    print(opened, flush=True)
`;

function runCmd(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'latin1' }, (err, out) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, out }),
    ),
  );
}

async function rssMb(pid: number): Promise<number> {
  const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/**
 * A mount (2.6.35 ABI, readable by everyone) with a hostile neighbour for `seconds`: a live
 * recording is started every 2 s into a small directory that `nobody` keeps filling and emptying,
 * `nobody` opens files of the mount in a loop (up to 15,000 held at once), and the daemon's stderr
 * and stdout are closed half-way. Root's `cat` of a statistics file every second must answer;
 * the daemon's RSS is sampled every second. Returns the figures.
 */
export async function soakHostile(
  seconds: number,
  say: (s: string) => void,
): Promise<Record<string, unknown>> {
  const work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-hostile-'));
  await fsp.chmod(work, 0o755);
  const mnt = join(work, 'mnt');
  const traces = join(work, 'traces');
  await fsp.mkdir(mnt);
  await fsp.mkdir(traces);
  const tmpfs = await runCmd(
    'mount',
    ['-t', 'tmpfs', '-o', 'size=24m,mode=1777', 'pvl-hostile', traces],
    10_000,
  );
  if (tmpfs.code !== 0) throw new Error('cannot mount a tmpfs for the trace directory');
  const children: ChildProcess[] = [];
  const daemon = spawn(
    process.execPath,
    [join(ROOT, 'dist', 'cli', 'main.js'), 'mount', mnt, '--abi', '2.6.35', '--trace-dir', traces],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  daemon.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  daemon.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => daemon.on('exit', (c) => r(c)));
  const cats: number[] = [];
  let catFailures = 0;
  const rss: { t_s: number; rss_mb: number }[] = [];
  let recordingsStarted = 0;
  let written = 0;
  let lastError = '';
  let opens = 0;
  try {
    for (let i = 0; i < 300 && !log.includes('mounted at'); i++)
      await new Promise((r) => setTimeout(r, 100));
    if (!log.includes('mounted at')) throw new Error(`the daemon did not mount: ${log}`);
    const filler = spawn('setpriv', [...AS_NOBODY, 'sh', '-c', FILLER, 'sh', traces], {
      stdio: 'ignore',
    });
    const hoarder = spawn(
      'setpriv',
      [...AS_NOBODY, '/usr/bin/python3', '-c', HOARDER, mnt, '15000'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    hoarder.stdout?.on('data', (d: Buffer) => {
      const last = d.toString().trim().split('\n').pop();
      if (last) opens = Number(last);
    });
    children.push(filler, hoarder);
    const t0 = performance.now();
    let closed = false;
    for (let s = 1; performance.now() - t0 < seconds * 1000; s++) {
      const before = performance.now();
      const c = await runCmd('cat', [join(mnt, 'kvm/spinlocks/taken')], 10_000);
      if (c.code === 0 && /^\d+\n$/.test(c.out)) cats.push(performance.now() - before);
      else catFailures += 1;
      if (s % 2 === 0) {
        const w = await runCmd(
          'sh',
          ['-c', 'echo 1000000000 > "$1"', 'sh', join(mnt, 'pvlockfs/trace_ns')],
          10_000,
        );
        if (w.code === 0) recordingsStarted += 1;
      }
      const st = await runCmd('cat', [join(mnt, 'pvlockfs/trace_status')], 10_000);
      written = Number(/^written=(\d+)$/m.exec(st.out)?.[1] ?? written);
      const err = /^last_error=(.*)$/m.exec(st.out)?.[1] ?? '';
      if (err !== '') lastError = err;
      rss.push({ t_s: s, rss_mb: Math.round((await rssMb(daemon.pid as number)) * 10) / 10 });
      if (!closed && performance.now() - t0 > (seconds * 1000) / 2) {
        closed = true;
        daemon.stdout?.destroy();
        daemon.stderr?.destroy();
        daemon.kill('SIGUSR2');
        say("bench hostile: closed the daemon's stdout and stderr");
      }
      if (s % 60 === 0)
        say(
          `bench hostile: ${s} s, ${cats.length} cats answered, ${catFailures} failed, rss ${rss[rss.length - 1].rss_mb} MB`,
        );
      const spent = performance.now() - before;
      if (spent < 1000) await new Promise((r) => setTimeout(r, 1000 - spent));
    }
    for (const c of children) c.kill('SIGKILL');
    daemon.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000)),
    ]);
    const mounted = (await fsp.readFile('/proc/self/mountinfo', 'utf8')).includes(` ${mnt} `);
    const mbs = rss.map((r) => r.rss_mb);
    return {
      seconds,
      root_cat: {
        answered: cats.length,
        failed: catFailures,
        p50_ms: Math.round(quantile(cats, 0.5) * 10) / 10,
        p99_ms: Math.round(quantile(cats, 0.99) * 10) / 10,
        max_ms: Math.round(Math.max(0, ...cats) * 10) / 10,
      },
      rss_mb: {
        first: mbs[0],
        max: Math.max(...mbs),
        last: mbs[mbs.length - 1],
        per_minute: rss.filter((r) => r.t_s % 60 === 0),
      },
      recordings: { started: recordingsStarted, written, last_error: lastError },
      hostile_opens: opens,
      daemon_exit: code,
      left_mounted: mounted,
    };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
    await runCmd('umount', ['-l', mnt], 10_000);
    await runCmd('umount', ['-l', traces], 10_000);
    await fsp.rm(work, { recursive: true, force: true });
  }
}
