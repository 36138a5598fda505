import { ChildProcess, execFile, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
const LIBFUSE = join(ROOT, 'node_modules', 'fuse-shared-library-linux', 'libfuse');

export interface Reading {
  threads: number;
  ops: number;
  errors: number;
  ops_per_s: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
}

export function exec(cmd: string, args: string[], timeoutMs: number): Promise<string> {
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
export class Target {
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

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Builds the C reader and the libfuse2 reference daemon from their sources. */
export async function buildTools(dir: string): Promise<{ reader: string; ref: string }> {
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

type Results = Record<string, Record<number, Reading[]>>;

const NAMES = ['pvlockfs', 'fuse-native-trivial', 'c-libfuse2', 'tmpfs'];

/** Each target's medians over the rounds, per number of readers. */
function summarise(results: Results, threads: number[]): Record<string, unknown> {
  return Object.fromEntries(
    NAMES.map((n) => [
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
}

/** The median over rounds of one target's rate over another's, both measured in the same round. */
function ratio(results: Results, a: string, ta: number, b: string, tb: number): number {
  const rs = results[a][ta].map((x, i) => x.ops_per_s / results[b][tb][i].ops_per_s);
  return Math.round(median(rs) * 1000) / 1000;
}

/** The four targets: three mounts started, a tmpfs copy of pvlockfs's file. */
async function startTargets(
  work: string,
  shm: string,
  ref: string,
  started: Target[],
): Promise<[string, string][]> {
  const target = async (name: string, dir: string): Promise<Target> => {
    const t = new Target(name, '', join(work, dir));
    await fsp.mkdir(t.mnt as string);
    started.push(t);
    return t;
  };
  const pv = await target('pvlockfs', 'pvlockfs');
  await pv.start(join(ROOT, 'scripts', 'pvlockfs'), ['mount', pv.mnt as string]);
  const trivial = await target('fuse-native-trivial', 'trivial');
  await trivial.start(process.execPath, [
    join(ROOT, 'dist', 'tools', 'bench-trivial-main.js'),
    trivial.mnt as string,
  ]);
  const cref = await target('c-libfuse2', 'cref');
  await cref.start(ref, [cref.mnt as string, '-f', '-o', 'direct_io,allow_other']);
  const pvFile = join(pv.mnt as string, 'kvm/spinlocks/histo_total');
  await fsp.writeFile(
    join(shm, 'histo_total'),
    await fsp.readFile(pvFile).catch(() => Buffer.from('0\n')),
  );
  return [
    ['pvlockfs', pvFile],
    ['fuse-native-trivial', join(trivial.mnt as string, 'histo_total')],
    ['c-libfuse2', join(cref.mnt as string, 'histo_total')],
    ['tmpfs', join(shm, 'histo_total')],
  ];
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
  const shm = await fsp.mkdtemp(join('/dev/shm', 'pvlockfs-bench-'));
  const started: Target[] = [];
  try {
    const tools = await buildTools(work);
    const files = await startTargets(work, shm, tools.ref, started);
    const results: Results = Object.fromEntries(
      NAMES.map((n) => [n, Object.fromEntries(threads.map((t) => [t, []]))]),
    );
    for (let r = 0; r < runs; r++)
      for (const t of threads)
        for (const [name, file] of files) {
          const reading = JSON.parse(
            await exec(tools.reader, [file, String(t), String(seconds)], (seconds + 30) * 1000),
          ) as Reading;
          results[name][t].push(reading);
          say(
            `bench read: round ${r + 1}/${runs}, ${t} reader(s), ${name}: ${reading.ops_per_s}/s p99 ${reading.p99_us} µs`,
          );
        }
    const pv = started[0];
    const idleStart = await pv.cpuSeconds();
    await new Promise((res) => setTimeout(res, 5000));
    const idleCpu = ((await pv.cpuSeconds()) - idleStart) / 5;
    const top = threads[threads.length - 1];
    return {
      runs,
      seconds_per_reading: seconds,
      file: 'kvm/spinlocks/histo_total',
      summary: summarise(results, threads),
      ratios: {
        pvlockfs_vs_trivial_1_reader: ratio(results, 'pvlockfs', 1, 'fuse-native-trivial', 1),
        pvlockfs_vs_c_libfuse2_1_reader: ratio(results, 'pvlockfs', 1, 'c-libfuse2', 1),
        trivial_vs_c_libfuse2_1_reader: ratio(results, 'fuse-native-trivial', 1, 'c-libfuse2', 1),
        [`pvlockfs_${top}_readers_vs_1`]: ratio(results, 'pvlockfs', top, 'pvlockfs', 1),
        pvlockfs_vs_tmpfs_1_reader: ratio(results, 'pvlockfs', 1, 'tmpfs', 1),
      },
      pvlockfs_idle_cpu_share_at_speed_1: Math.round(idleCpu * 1000) / 1000,
      raw: results,
    };
  } finally {
    for (const t of started) await t.stop();
    await fsp.rm(shm, { recursive: true, force: true });
    await fsp.rm(work, { recursive: true, force: true });
  }
}
