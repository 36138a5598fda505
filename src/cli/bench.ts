import { cpus } from 'node:os';
import { intArg } from './args';
import { benchRead, soakRead } from './bench-read';
import { curve, soak, speed } from './bench-sim';
import { defaultConfig } from '../sim/config';

const HELP = `scripts/bench read [--runs N] [--seconds S] | read --soak SECONDS [--readers N]
  Read path: open + read-to-EOF + close on kvm/spinlocks/histo_total with 1, 4 and 16 concurrent
  readers (a separate C process), side by side against a trivial fuse-native daemon, a minimal C
  libfuse2 daemon and tmpfs; medians of N rounds of S seconds per reading; daemon CPU when idle.
  With --soak: 16 readers (--readers N; 0 for the writer alone) plus a knob writer for SECONDS;
  daemon RSS, CPU and heap after GC over time.

scripts/bench sim [--runs N] [--sim-seconds S] [--soak SECONDS]
  Simulation speed of the default guest (median of N runs of S simulated seconds each, after a
  1 s warm-up), the curve for 4, 16 and 64 vCPUs (pCPUs = vCPUs/2, 2x), and with --soak the
  daemon-free memory profile of the default guest over SECONDS of wall time.
  JSON on stdout, progress on stderr.`;

function flag(argv: string[], name: string, def: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return def;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`bench: ${name}: '${argv[i + 1]}' is not valid (expected a positive number)\n`);
    process.exit(2);
  }
  return v;
}

/** `--readers N` of the soak: 0 to 64, default 16. */
function readers(argv: string[]): number {
  const i = argv.indexOf('--readers');
  if (i < 0) return 16;
  try {
    return intArg('--readers', argv[i + 1] ?? '', 0, 64);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    process.exit(2);
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'read') {
    const say = (s: string): void => void process.stderr.write(`${s}\n`);
    if (argv.includes('--soak')) {
      process.stdout.write(`${JSON.stringify(await soakRead(flag(argv, '--soak', 600), say, readers(argv)), null, 2)}\n`);
      return;
    }
    const result = await benchRead(flag(argv, '--runs', 5), flag(argv, '--seconds', 2), [1, 4, 16], say);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (argv[0] !== 'sim') {
    process.stdout.write(`${HELP}\n`);
    process.exitCode = argv[0] === 'help' || argv[0] === '--help' ? 0 : 2;
    return;
  }
  const runs = flag(argv, '--runs', 5);
  const simSeconds = flag(argv, '--sim-seconds', 10);
  const soakSeconds = argv.includes('--soak') ? flag(argv, '--soak', 600) : 0;
  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  say(`bench: default guest, ${runs} runs of ${simSeconds} simulated s`);
  const def = speed(defaultConfig(), simSeconds, runs);
  say(`bench: default ${def.median_sim_s_per_wall_s} simulated s per wall s`);
  const pv = speed({ ...defaultConfig(), lock: 'ticket' }, simSeconds, runs);
  say('bench: curve 4/16/64 vCPUs');
  const c = curve([4, 16, 64], simSeconds, Math.min(runs, 3));
  for (const row of c) say(`bench: ${row.vcpus} vCPUs on ${row.pcpus} pCPUs: ${row.median_sim_s_per_wall_s} simulated s per wall s`);
  const result: Record<string, unknown> = {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    default_pv_yield: def,
    default_ticket: pv,
    curve_2x: c,
  };
  if (soakSeconds > 0) result.soak = await soak(soakSeconds, Math.max(1, Math.round(soakSeconds / 60)), say);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

void main(process.argv.slice(2));
