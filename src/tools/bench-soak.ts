import { ChildProcess, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTools, exec, median, Reading, ROOT, Target } from './bench-read';

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

interface Sample {
  t_s: number;
  rss_mb: number;
  cpu_share: number;
  ops_per_s: number;
  p99_us: number;
  errors: number;
}

/** The knob writer's process and what it counted so far. */
interface Writer {
  proc: ChildProcess;
  writes: number;
  errors: number;
}

function startWriter(knobs: string, control: string): Writer {
  const proc = spawn('sh', ['-c', KNOB_WRITER, 'sh', knobs, control], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const w: Writer = { proc, writes: 0, errors: 0 };
  proc.stdout?.on('data', (d: Buffer) => {
    const text = d.toString();
    w.errors += (text.match(/write failed/g) ?? []).length;
    w.writes += (text.match(/round/g) ?? []).length;
  });
  proc.stderr?.on('data', () => undefined);
  return w;
}

/** One chunk of readings (or, with no readers, the chunk only waited out: the writer alone). */
async function readChunk(
  reader: string,
  file: string,
  readers: number,
  chunk: number,
): Promise<Reading> {
  if (readers > 0)
    return JSON.parse(
      await exec(reader, [file, String(readers), String(chunk)], (chunk + 30) * 1000),
    ) as Reading;
  await new Promise((res) => setTimeout(res, chunk * 1000));
  return { ops_per_s: 0, p99_us: 0, errors: 0 } as Reading;
}

async function rssMb(pid: number | undefined): Promise<number> {
  const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
}

function soakSummary(
  seconds: number,
  readers: number,
  writer: Writer,
  heap: [number, number],
  samples: Sample[],
  alive: boolean,
): Record<string, unknown> {
  const half = samples.length >> 1;
  return {
    seconds,
    readers,
    knob_writer:
      'zero_stats, timeout (1, 1024, 4294967295, 1024), hogs (1024, 0), running (0, 1) every 0.1 s',
    knob_rounds: writer.writes,
    knob_write_errors: writer.errors,
    heap_after_gc_start_mb: heap[0],
    heap_after_gc_end_mb: heap[1],
    rss_first_sample_mb: samples[0]?.rss_mb,
    rss_last_sample_mb: samples[samples.length - 1]?.rss_mb,
    rss_first_half_max_mb: Math.max(...samples.slice(0, Math.max(1, half)).map((s) => s.rss_mb)),
    rss_second_half_max_mb: Math.max(...samples.slice(half).map((s) => s.rss_mb)),
    median_ops_per_s: median(samples.map((s) => s.ops_per_s)),
    errors: samples.reduce((a, s) => a + s.errors, 0),
    daemon_alive_at_end: alive,
    samples,
  };
}

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
  const mnt = join(work, 'mnt');
  await fsp.mkdir(mnt);
  const pv = new Target('pvlockfs', '', mnt);
  let writer: Writer | null = null;
  const samples: Sample[] = [];
  try {
    const tools = await buildTools(work);
    // The daemon itself (not the launcher) with --expose-gc, so SIGUSR2 reports the heap after GC.
    await pv.start(process.execPath, [
      '--expose-gc',
      join(ROOT, 'dist', 'cli', 'main.js'),
      'mount',
      mnt,
    ]);
    const knobs = join(mnt, 'kvm/spinlocks');
    const w = startWriter(knobs, join(mnt, 'pvlockfs'));
    writer = w;
    // The heap is taken once the writer has gone round 5 times: the 1024 hog tasks made by the
    // first round are kept for reuse, so from then on the heap must stay where it is.
    while (w.writes < 5) await new Promise((r) => setTimeout(r, 20));
    const heapStartMb = await heapAfterGcMb(pv);
    const chunk = Math.min(10, seconds);
    const start = Date.now();
    let cpu0 = await pv.cpuSeconds();
    while ((Date.now() - start) / 1000 < seconds) {
      const t0 = Date.now();
      const r = await readChunk(tools.reader, join(knobs, 'histo_total'), readers, chunk);
      const cpu1 = await pv.cpuSeconds();
      const sample: Sample = {
        t_s: Math.round((Date.now() - start) / 1000),
        rss_mb: Math.round((await rssMb(pv.proc?.pid)) * 10) / 10,
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
    w.proc.kill('SIGKILL');
    const heapEndMb = await heapAfterGcMb(pv);
    const alive = pv.proc?.exitCode === null;
    return soakSummary(seconds, readers, w, [heapStartMb, heapEndMb], samples, alive);
  } finally {
    if (writer && writer.proc.exitCode === null) writer.proc.kill('SIGKILL');
    await pv.stop();
    await fsp.rm(work, { recursive: true, force: true });
  }
}
