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

/** What one soak second measured, accumulated. */
interface Tally {
  cats: number[];
  catFailures: number;
  rss: { t_s: number; rss_mb: number }[];
  recordingsStarted: number;
  written: number;
  lastError: string;
  opens: number;
}

/** The daemon under test: its process, everything it printed, and its exit. */
interface Daemon {
  proc: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

function startDaemon(mnt: string, traces: string): Daemon {
  const proc = spawn(
    process.execPath,
    [join(ROOT, 'dist', 'cli', 'main.js'), 'mount', mnt, '--abi', '2.6.35', '--trace-dir', traces],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  return { proc, log: () => log, exited };
}

async function awaitMounted(daemon: Daemon): Promise<void> {
  for (let i = 0; i < 300 && !daemon.log().includes('mounted at'); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!daemon.log().includes('mounted at'))
    throw new Error(`the daemon did not mount: ${daemon.log()}`);
}

/** `nobody` filling the trace directory and hoarding open files of the mount. */
function startNeighbours(mnt: string, traces: string, tally: Tally): ChildProcess[] {
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
    if (last) tally.opens = Number(last);
  });
  return [filler, hoarder];
}

/** Second `s` of the soak: root's cat, every other second a recording, the status, the RSS. */
async function soakSecond(s: number, mnt: string, pid: number, tally: Tally): Promise<void> {
  const before = performance.now();
  const c = await runCmd('cat', [join(mnt, 'kvm/spinlocks/taken')], 10_000);
  if (c.code === 0 && /^\d+\n$/.test(c.out)) tally.cats.push(performance.now() - before);
  else tally.catFailures += 1;
  if (s % 2 === 0) {
    const w = await runCmd(
      'sh',
      ['-c', 'echo 1000000000 > "$1"', 'sh', join(mnt, 'pvlockfs/trace_ns')],
      10_000,
    );
    if (w.code === 0) tally.recordingsStarted += 1;
  }
  const st = await runCmd('cat', [join(mnt, 'pvlockfs/trace_status')], 10_000);
  tally.written = Number(/^written=(\d+)$/m.exec(st.out)?.[1] ?? tally.written);
  const err = /^last_error=(.*)$/m.exec(st.out)?.[1] ?? '';
  if (err !== '') tally.lastError = err;
  tally.rss.push({ t_s: s, rss_mb: Math.round((await rssMb(pid)) * 10) / 10 });
}

function closeOutputs(daemon: Daemon, say: (s: string) => void): void {
  daemon.proc.stdout?.destroy();
  daemon.proc.stderr?.destroy();
  daemon.proc.kill('SIGUSR2');
  say("bench hostile: closed the daemon's stdout and stderr");
}

function summary(
  seconds: number,
  tally: Tally,
  code: number | null | 'hung',
  mounted: boolean,
): Record<string, unknown> {
  const round = (x: number) => Math.round(x * 10) / 10;
  const mbs = tally.rss.map((r) => r.rss_mb);
  return {
    seconds,
    root_cat: {
      answered: tally.cats.length,
      failed: tally.catFailures,
      p50_ms: round(quantile(tally.cats, 0.5)),
      p99_ms: round(quantile(tally.cats, 0.99)),
      max_ms: round(Math.max(0, ...tally.cats)),
    },
    rss_mb: {
      first: mbs[0],
      max: Math.max(...mbs),
      last: mbs[mbs.length - 1],
      per_minute: tally.rss.filter((r) => r.t_s % 60 === 0),
    },
    recordings: {
      started: tally.recordingsStarted,
      written: tally.written,
      last_error: tally.lastError,
    },
    hostile_opens: tally.opens,
    daemon_exit: code,
    left_mounted: mounted,
  };
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
  const tally: Tally = {
    cats: [],
    catFailures: 0,
    rss: [],
    recordingsStarted: 0,
    written: 0,
    lastError: '',
    opens: 0,
  };
  const daemon = startDaemon(mnt, traces);
  let children: ChildProcess[] = [];
  try {
    await awaitMounted(daemon);
    children = startNeighbours(mnt, traces, tally);
    const t0 = performance.now();
    let closed = false;
    for (let s = 1; performance.now() - t0 < seconds * 1000; s++) {
      const before = performance.now();
      await soakSecond(s, mnt, daemon.proc.pid as number, tally);
      if (!closed && performance.now() - t0 > (seconds * 1000) / 2) {
        closed = true;
        closeOutputs(daemon, say);
      }
      if (s % 60 === 0)
        say(
          `bench hostile: ${s} s, ${tally.cats.length} cats answered, ${tally.catFailures} failed, rss ${tally.rss[tally.rss.length - 1].rss_mb} MB`,
        );
      const spent = performance.now() - before;
      if (spent < 1000) await new Promise((r) => setTimeout(r, 1000 - spent));
    }
    for (const c of children) c.kill('SIGKILL');
    daemon.proc.kill('SIGTERM');
    const code = await Promise.race([
      daemon.exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000)),
    ]);
    const mounted = (await fsp.readFile('/proc/self/mountinfo', 'utf8')).includes(` ${mnt} `);
    return summary(seconds, tally, code, mounted);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (daemon.proc.exitCode === null) daemon.proc.kill('SIGKILL');
    await runCmd('umount', ['-l', mnt], 10_000);
    await runCmd('umount', ['-l', traces], 10_000);
    await fsp.rm(work, { recursive: true, force: true });
  }
}
