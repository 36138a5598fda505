// First: the engine's inlining budget (see the module).
import '../cli/engine-flags';
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { intArg, OptionSpec, parseArgv, realArg } from '../cli/args';
import { benchRead } from './bench-read';
import { soakHostile } from './bench-hostile';
import { soakRead } from './bench-soak';
import { curve, guestsSpeed, soak, speed } from './bench-sim';
import { defaultConfig } from '../sim/config';

const HELP = `scripts/bench hostile [--seconds S]
  A mount with a hostile neighbour for S seconds (default 600): live recordings into a small
  directory that nobody keeps filling and emptying, nobody opening files of the mount in a loop,
  the daemon's stdout and stderr closed half-way; root's cat every second must answer. Root only.

scripts/bench read [--runs N] [--seconds S] | read --soak SECONDS [--readers N]
  Read path: open + read-to-EOF + close on kvm/spinlocks/histo_total with 1, 4 and 16 concurrent
  readers (a separate C process), side by side against a trivial fuse-native daemon, a minimal C
  libfuse2 daemon and tmpfs; medians of N rounds of S seconds per reading; daemon CPU when idle.
  With --soak: 16 readers (--readers N; 0 for the writer alone) plus a knob writer for SECONDS;
  daemon RSS, CPU and heap after GC over time.

scripts/bench sim [--runs N] [--sim-seconds S] [--soak SECONDS]
  Simulation speed of the default guest (median of N runs of S simulated seconds each, after a
  warm-up of at least 1 simulated s and 0.5 wall s), the curve for 4, 16 and 64 vCPUs (pCPUs = vCPUs/2, 2x), 8 guests of 8 vCPUs on
  32 pCPUs (2x, one CFS group per guest; N runs of S s), and with --soak the
  daemon-free memory profile of the default guest over SECONDS of wall time. Each case runs in a
  process of its own, as a real run does (one configuration per process), so that the code the
  engine compiled for one case does not slow down the next.
  JSON on stdout, progress on stderr.`;

/** The options of `scripts/bench`, parsed by the one argv parser. */
interface BenchOptions {
  runs: number;
  seconds: number;
  simSeconds: number;
  soak: number;
  readers: number;
}

const BENCH_OPTIONS: readonly OptionSpec<BenchOptions>[] = [
  {
    flag: '--runs',
    arg: 'N',
    help: 'rounds or runs (default 5)',
    set: (o, v, f) => (o.runs = intArg(f, v, 1, 1000)),
  },
  {
    flag: '--seconds',
    arg: 'S',
    help: 'seconds per reading (read; default 2)',
    set: (o, v, f) => (o.seconds = realArg(f, v, 0.1, 3600)),
  },
  {
    flag: '--sim-seconds',
    arg: 'S',
    help: 'simulated seconds per run (sim; default 10)',
    set: (o, v, f) => (o.simSeconds = realArg(f, v, 0.001, 1e6)),
  },
  {
    flag: '--soak',
    arg: 'SECONDS',
    help: 'a soak of SECONDS instead',
    set: (o, v, f) => (o.soak = realArg(f, v, 1, 86_400)),
  },
  {
    flag: '--readers',
    arg: 'N',
    help: 'readers of the read soak (default 16; 0: the writer alone)',
    set: (o, v, f) => (o.readers = intArg(f, v, 0, 64)),
  },
];

/** Parses the arguments after `read` or `sim`; a bad one exits 2 with the reason. */
function options(command: string, argv: string[]): BenchOptions {
  const o: BenchOptions = { runs: 5, seconds: 2, simSeconds: 10, soak: 0, readers: 16 };
  try {
    parseArgv(`bench ${command}`, BENCH_OPTIONS, { name: 'arguments', min: 0, max: 0 }, argv, o);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    process.exit(2);
  }
  return o;
}

/** The cases of `bench sim`: each gives its result for `runs` runs of about `simSeconds`. */
const SIM_CASES = {
  default_pv_yield: (runs: number, simSeconds: number) => speed(defaultConfig(), simSeconds, runs),
  default_ticket: (runs: number, simSeconds: number) =>
    speed({ ...defaultConfig(), lock: 'ticket' }, simSeconds, runs),
  curve_2x: (runs: number, simSeconds: number) => curve([4, 16, 64], simSeconds, Math.min(runs, 3)),
  guests_8x8_on_32: (runs: number, simSeconds: number) => guestsSpeed(8, 8, 32, simSeconds, runs),
} satisfies Record<string, (runs: number, simSeconds: number) => unknown>;
type SimCase = keyof typeof SIM_CASES;

function isSimCase(name: string | undefined): name is SimCase {
  return name !== undefined && Object.hasOwn(SIM_CASES, name);
}

/** One result row of a case, as the progress line names it. */
type SpeedRow = { median_sim_s_per_wall_s: number; vcpus?: number; pcpus?: number };

function caseLabel(name: SimCase, row: SpeedRow): string {
  if (name === 'curve_2x') return `${row.vcpus} vCPUs on ${row.pcpus} pCPUs`;
  if (name === 'guests_8x8_on_32') return '8 guests × 8 vCPUs on 32 pCPUs';
  return name === 'default_ticket' ? 'default guest, ticket lock' : 'default guest, pv-yield';
}

/**
 * Runs one case in a new process of this program (the same node, the same engine flags), and
 * returns what it printed. A case that fails ends the benchmark with its error.
 */
function runCase(name: SimCase, runs: number, simSeconds: number): Promise<SpeedRow | SpeedRow[]> {
  const args = [
    ...process.execArgv,
    __filename,
    'sim-case',
    name,
    '--runs',
    String(runs),
    '--sim-seconds',
    String(simSeconds),
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 24 }, (err, out, errOut) => {
      if (err) reject(new Error(`bench: case ${name} failed: ${errOut.trim() || err.message}`));
      else resolve(JSON.parse(out) as SpeedRow | SpeedRow[]);
    });
  });
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'hostile') {
    const o = options('read', argv.slice(1));
    const say = (s: string): void => void process.stderr.write(`${s}\n`);
    const seconds = argv.some((a) => a.startsWith('--seconds')) ? o.seconds : 600;
    process.stdout.write(`${JSON.stringify(await soakHostile(seconds, say), null, 2)}\n`);
    return;
  }
  if (argv[0] === 'read') {
    const o = options('read', argv.slice(1));
    const say = (s: string): void => void process.stderr.write(`${s}\n`);
    if (o.soak > 0) {
      process.stdout.write(`${JSON.stringify(await soakRead(o.soak, say, o.readers), null, 2)}\n`);
      return;
    }
    const result = await benchRead(o.runs, o.seconds, [1, 4, 16], say);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (argv[0] === 'sim-case') {
    // One case of `sim`, in the process `sim` started for it (not for users: not in the help).
    const name = argv[1];
    const { runs, simSeconds } = options('sim', argv.slice(2));
    if (!isSimCase(name)) {
      process.stderr.write(`bench: no such case: ${String(name)}\n`);
      process.exit(2);
    }
    process.stdout.write(`${JSON.stringify(SIM_CASES[name](runs, simSeconds))}\n`);
    return;
  }
  if (argv[0] !== 'sim') {
    process.stdout.write(`${HELP}\n`);
    process.exitCode = argv[0] === 'help' || argv[0] === '--help' ? 0 : 2;
    return;
  }
  const { runs, simSeconds, soak: soakSeconds } = options('sim', argv.slice(1));
  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  say(`bench: default guest, ${runs} runs of ${simSeconds} simulated s`);
  const result: Record<string, unknown> = {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
  };
  for (const name of Object.keys(SIM_CASES) as SimCase[]) {
    const r = await runCase(name, runs, simSeconds);
    result[name] = r;
    for (const row of Array.isArray(r) ? r : [r])
      say(`bench: ${caseLabel(name, row)}: ${row.median_sim_s_per_wall_s} simulated s per wall s`);
  }
  if (soakSeconds > 0)
    result.soak = await soak(soakSeconds, Math.max(1, Math.round(soakSeconds / 60)), say);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

void main(process.argv.slice(2));
