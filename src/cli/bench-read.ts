import { ChildProcess, execFile, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const LIBFUSE = join(ROOT, 'node_modules', 'fuse-shared-library-linux', 'libfuse');

interface Reading {
  threads: number;
  ops: number;
  errors: number;
  ops_per_s: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
}

function exec(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((res, rej) =>
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 22 }, (err, out, errOut) =>
      err ? rej(new Error(`${cmd}: ${err.message} ${errOut}`)) : res(out),
    ),
  );
}

async function mounted(path: string): Promise<boolean> {
  const text = await fsp.readFile('/proc/mounts', 'utf8');
  return text.split('\n').some((l) => l.split(' ')[1] === path);
}

/** A daemon under test: started as a child process, stopped by its own pid. */
class Target {
  proc: ChildProcess | null = null;
  out = '';
  constructor(
    readonly name: string,
    readonly file: string,
    readonly mnt: string | null,
  ) {}

  async start(cmd: string, args: string[]): Promise<void> {
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    const end = Date.now() + 30_000;
    while (!(this.mnt && (await mounted(this.mnt)))) {
      if (Date.now() > end || this.proc.exitCode !== null)
        throw new Error(`${this.name} did not mount: ${this.out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // The pvlockfs daemon prints its ready line after the mount answers.
    while (this.name === 'pvlockfs' && !this.out.includes('mounted at'))
      await new Promise((r) => setTimeout(r, 20));
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null) {
      const exited = new Promise((r) => p.on('exit', r));
      p.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
    if (this.mnt && (await mounted(this.mnt)))
      await exec('umount', ['-l', this.mnt], 10_000).catch(() => undefined);
    if (this.mnt) await fsp.rmdir(this.mnt).catch(() => undefined);
  }

  /** CPU seconds the daemon used so far (utime + stime from /proc). */
  async cpuSeconds(): Promise<number> {
    const stat = await fsp.readFile(`/proc/${this.proc?.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Builds the C reader and the libfuse2 reference daemon from their sources. */
async function buildTools(dir: string): Promise<{ reader: string; ref: string }> {
  const src = join(ROOT, 'scripts', 'bench-tools');
  const reader = join(dir, 'reader');
  const ref = join(dir, 'ref-fuse');
  await exec('cc', ['-O2', '-pthread', '-o', reader, join(src, 'reader.c')], 60_000);
  await exec(
    'cc',
    [
      '-O2',
      `-I${join(LIBFUSE, 'include')}`,
      '-o',
      ref,
      join(src, 'ref-fuse.c'),
      `-L${join(LIBFUSE, 'lib')}`,
      '-l:libfuse.so',
      '-pthread',
    ],
    60_000,
  );
  return { reader, ref };
}

/**
 * The read-path benchmark: open + read-to-EOF + close cycles on histo_total by 1, 4 and 16
 * concurrent readers in a separate process, against pvlockfs (simulation running at speed 1), a
 * trivial fuse-native daemon, a minimal C libfuse2 daemon and a tmpfs copy — interleaved in each
 * round so every comparison is side by side.
 */
export async function benchRead(
  runs: number,
  seconds: number,
  threads: number[],
  say: (s: string) => void,
): Promise<Record<string, unknown>> {
  const work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-bench-'));
  const tools = await buildTools(work);
  const mk = async (n: string): Promise<string> => {
    const d = join(work, n);
    await fsp.mkdir(d);
    return d;
  };
  const pv = new Target('pvlockfs', '', await mk('pvlockfs'));
  const trivial = new Target('fuse-native-trivial', '', await mk('trivial'));
  const cref = new Target('c-libfuse2', '', await mk('cref'));
  const shm = await fsp.mkdtemp(join('/dev/shm', 'pvlockfs-bench-'));
  const targets: [Target, string][] = [];
  try {
    await pv.start(join(ROOT, 'scripts', 'pvlockfs'), ['mount', pv.mnt as string]);
    await trivial.start(process.execPath, [
      join(ROOT, 'dist', 'cli', 'bench-trivial-main.js'),
      trivial.mnt as string,
    ]);
    await cref.start(tools.ref, [cref.mnt as string, '-f', '-o', 'direct_io,allow_other']);
    await fsp.writeFile(
      join(shm, 'histo_total'),
      await fsp
        .readFile(join(pv.mnt as string, 'kvm/spinlocks/histo_total'))
        .catch(() => Buffer.from('0\n')),
    );
    targets.push(
      [pv, join(pv.mnt as string, 'kvm/spinlocks/histo_total')],
      [trivial, join(trivial.mnt as string, 'histo_total')],
      [cref, join(cref.mnt as string, 'histo_total')],
    );
    const names = ['pvlockfs', 'fuse-native-trivial', 'c-libfuse2', 'tmpfs'];
    const results: Record<string, Record<number, Reading[]>> = Object.fromEntries(
      names.map((n) => [n, Object.fromEntries(threads.map((t) => [t, []]))]),
    );
    for (let r = 0; r < runs; r++) {
      for (const t of threads) {
        for (const [name, file] of [
          ...targets.map(([tg, f]) => [tg.name, f]),
          ['tmpfs', join(shm, 'histo_total')],
        ]) {
          const reading = JSON.parse(
            await exec(tools.reader, [file, String(t), String(seconds)], (seconds + 30) * 1000),
          ) as Reading;
          results[name][t].push(reading);
          say(
            `bench read: round ${r + 1}/${runs}, ${t} reader(s), ${name}: ${reading.ops_per_s}/s p99 ${reading.p99_us} µs`,
          );
        }
      }
    }
    const idleStart = await pv.cpuSeconds();
    await new Promise((res) => setTimeout(res, 5000));
    const idleCpu = ((await pv.cpuSeconds()) - idleStart) / 5;
    const summary = Object.fromEntries(
      names.map((n) => [
        n,
        Object.fromEntries(
          threads.map((t) => [
            `readers_${t}`,
            {
              median_ops_per_s: median(results[n][t].map((x) => x.ops_per_s)),
              median_p50_us: median(results[n][t].map((x) => x.p50_us)),
              median_p99_us: median(results[n][t].map((x) => x.p99_us)),
              max_us: Math.max(...results[n][t].map((x) => x.max_us)),
              errors: results[n][t].reduce((a, x) => a + x.errors, 0),
            },
          ]),
        ),
      ]),
    );
    const ratio = (a: string, ta: number, b: string, tb: number): number =>
      Math.round(
        median(results[a][ta].map((x, i) => x.ops_per_s / results[b][tb][i].ops_per_s)) * 1000,
      ) / 1000;
    const top = threads[threads.length - 1];
    return {
      runs,
      seconds_per_reading: seconds,
      file: 'kvm/spinlocks/histo_total',
      summary,
      ratios: {
        pvlockfs_vs_trivial_1_reader: ratio('pvlockfs', 1, 'fuse-native-trivial', 1),
        pvlockfs_vs_c_libfuse2_1_reader: ratio('pvlockfs', 1, 'c-libfuse2', 1),
        trivial_vs_c_libfuse2_1_reader: ratio('fuse-native-trivial', 1, 'c-libfuse2', 1),
        [`pvlockfs_${top}_readers_vs_1`]: ratio('pvlockfs', top, 'pvlockfs', 1),
        pvlockfs_vs_tmpfs_1_reader: ratio('pvlockfs', 1, 'tmpfs', 1),
      },
      pvlockfs_idle_cpu_share_at_speed_1: Math.round(idleCpu * 1000) / 1000,
      raw: results,
    };
  } finally {
    for (const [t] of targets) await t.stop();
    for (const t of [pv, trivial, cref]) if (!targets.some(([x]) => x === t)) await t.stop();
    await fsp.rm(shm, { recursive: true, force: true });
    await fsp.rm(work, { recursive: true, force: true });
  }
}

/** The daemon's heap after a forced GC, from its SIGUSR2 diagnostics line (MiB). */
async function heapAfterGcMb(t: Target): Promise<number> {
  const before = t.out.length;
  t.proc?.kill('SIGUSR2');
  const end = Date.now() + 10_000;
  for (;;) {
    const m = /heap ([\d.]+)\//.exec(t.out.slice(before));
    if (m) return Number(m[1]);
    if (Date.now() > end)
      throw new Error(`no SIGUSR2 diagnostics from the daemon: ${t.out.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The knob writer of the soak: every 0.1 s it writes zero_stats, timeout (1, 1024, 4294967295,
 * 1024), hogs (1024, then 0: the largest overcommit change there is) and running (0, then 1).
 * Paths arrive as arguments, never inside the script; each failed write prints one line.
 */
const KNOB_WRITER = `k="$1"; c="$2"
while :; do
  echo 1 > "$k/zero_stats" || echo "write failed: zero_stats"
  for t in 1 1024 4294967295 1024; do echo $t > "$k/timeout" || echo "write failed: timeout"; done
  echo 1024 > "$c/hogs" || echo "write failed: hogs"
  echo 0 > "$c/running" || echo "write failed: running"
  echo 0 > "$c/hogs" || echo "write failed: hogs"
  echo 1 > "$c/running" || echo "write failed: running"
  echo round
  sleep 0.1
done`;

/**
 * Soak: a pvlockfs mount under 16 readers and a knob writer (zero_stats, timeout, hogs, running)
 * for `seconds`; the daemon's RSS and CPU share are sampled every chunk of readings, its heap
 * after a forced GC at the start and the end.
 */
export async function soakRead(
  seconds: number,
  say: (s: string) => void,
  readers = 16,
): Promise<Record<string, unknown>> {
  const work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-soak-'));
  const tools = await buildTools(work);
  const mnt = join(work, 'mnt');
  await fsp.mkdir(mnt);
  const pv = new Target('pvlockfs', '', mnt);
  let writer: ChildProcess | null = null;
  const samples: {
    t_s: number;
    rss_mb: number;
    cpu_share: number;
    ops_per_s: number;
    p99_us: number;
    errors: number;
  }[] = [];
  try {
    // The daemon itself (not the launcher) with --expose-gc, so SIGUSR2 reports the heap after GC.
    await pv.start(process.execPath, [
      '--expose-gc',
      join(ROOT, 'dist', 'cli', 'main.js'),
      'mount',
      mnt,
    ]);
    const knobs = join(mnt, 'kvm/spinlocks');
    let writeErrors = 0;
    let writes = 0;
    writer = spawn('sh', ['-c', KNOB_WRITER, 'sh', knobs, join(mnt, 'pvlockfs')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    writer.stdout?.on('data', (d: Buffer) => {
      const text = d.toString();
      writeErrors += (text.match(/write failed/g) ?? []).length;
      writes += (text.match(/round/g) ?? []).length;
    });
    writer.stderr?.on('data', () => undefined);
    // The heap is taken once the writer has gone round 5 times: the 1024 hog tasks made by the
    // first round are kept for reuse, so from then on the heap must stay where it is.
    while (writes < 5) await new Promise((r) => setTimeout(r, 20));
    const heapStartMb = await heapAfterGcMb(pv);
    const chunk = Math.min(10, seconds);
    const start = Date.now();
    let cpu0 = await pv.cpuSeconds();
    while ((Date.now() - start) / 1000 < seconds) {
      const t0 = Date.now();
      // With no readers the chunk is only waited out: the writer alone, for comparison.
      const r: Reading =
        readers > 0
          ? (JSON.parse(
              await exec(
                tools.reader,
                [join(knobs, 'histo_total'), String(readers), String(chunk)],
                (chunk + 30) * 1000,
              ),
            ) as Reading)
          : await new Promise<Reading>((res) =>
              setTimeout(
                () => res({ ops_per_s: 0, p99_us: 0, errors: 0 } as Reading),
                chunk * 1000,
              ),
            );
      const cpu1 = await pv.cpuSeconds();
      const status = await fsp.readFile(`/proc/${pv.proc?.pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
      const sample = {
        t_s: Math.round((Date.now() - start) / 1000),
        rss_mb: Math.round(rss * 10) / 10,
        cpu_share: Math.round(((cpu1 - cpu0) / ((Date.now() - t0) / 1000)) * 1000) / 1000,
        ops_per_s: r.ops_per_s,
        p99_us: r.p99_us,
        errors: r.errors,
      };
      cpu0 = cpu1;
      samples.push(sample);
      say(
        `soak read ${sample.t_s} s: rss ${sample.rss_mb} MiB, cpu ${sample.cpu_share}, ${sample.ops_per_s}/s, p99 ${sample.p99_us} µs, errors ${sample.errors}`,
      );
    }
    writer.kill('SIGKILL');
    const heapEndMb = await heapAfterGcMb(pv);
    const half = samples.length >> 1;
    return {
      seconds,
      readers,
      knob_writer:
        'zero_stats, timeout (1, 1024, 4294967295, 1024), hogs (1024, 0), running (0, 1) every 0.1 s',
      knob_rounds: writes,
      knob_write_errors: writeErrors,
      heap_after_gc_start_mb: heapStartMb,
      heap_after_gc_end_mb: heapEndMb,
      rss_first_sample_mb: samples[0]?.rss_mb,
      rss_last_sample_mb: samples[samples.length - 1]?.rss_mb,
      rss_first_half_max_mb: Math.max(...samples.slice(0, Math.max(1, half)).map((s) => s.rss_mb)),
      rss_second_half_max_mb: Math.max(...samples.slice(half).map((s) => s.rss_mb)),
      median_ops_per_s: median(samples.map((s) => s.ops_per_s)),
      errors: samples.reduce((a, s) => a + s.errors, 0),
      daemon_alive_at_end: pv.proc?.exitCode === null,
      samples,
    };
  } finally {
    if (writer && writer.exitCode === null) writer.kill('SIGKILL');
    await pv.stop();
    await fsp.rm(work, { recursive: true, force: true });
  }
}
