import { MAX_HANDLES } from '../debugfs/fs';
import { ABIS, Abi } from '../debugfs/parse';
import { Layout, naturalLayout } from '../layout/tree';
import { defaultConfig, hogsForOvercommit, MAX_HOGS, SimConfig } from '../sim/config';
import { validateConfig } from '../sim/config-check';
import { intArg, nonEmptyArg, oneOfArg, OptionSpec, parseArgv, realArg, shown } from './args';
import { durationText, formatNs, parseBounded, parseDurationNs } from '../app/duration';
import { defaultTrace, TraceRequest } from '../app/windows';
import { SCENARIO_OPTION_SPECS } from './options-scenario';
import { MECHANISM_OPTION_SPECS } from './options-mechanisms';
import { MODEL_OPTION_SPECS } from './options-model';
import { FAULT_OPTION_SPECS } from './options-faults';
import type { FailSpec } from '../faults/boot';
import { BOTH, overcommitSeen } from './options-shared';
import { UsageError } from '../app/errors';
import type { GuestOption } from './guests';

/** Everything a command line can set. */
export interface Options {
  sim: SimConfig;
  simTimeNs: number;
  work: boolean;
  json: boolean;
  abi: Abi;
  speed: number;
  debug: boolean;
  layout: Layout;
  /** mount: advance the stopped guest this much every this much wall time (null: off). */
  lockstepNs: number | null;
  /** mount: return once mounted, leaving the daemon running in the background. */
  background: boolean;
  /** mount: start with the guest stopped at simulated time 0 (step it with pvlockfs/advance_ns). */
  paused: boolean;
  /** A script of timed knob writes (FILE), or null. */
  script: string | null;
  /** run: what to record as a timeline (a JSON trace, an SVG), if anything. */
  trace: TraceRequest;
  /** mount: where recordings started through pvlockfs/trace_ns go (null: the working directory). */
  traceDir: string | null;
  /** Several guests on one host (`--guest`, repeatable); none: the one guest of the options. */
  guests: GuestOption[];
  /** mount: the most files kept open at once (the least recently used is closed past it). */
  maxOpenFiles: number;
  /** mount: faults armed at start (`--fail`, the kernel's boot form). */
  fails: FailSpec[];
  /** mount: where the access log goes (null: none; `-`: standard error). */
  accessLog: string | null;
  positional: string[];
}

export type Command = 'run' | 'mount';
export interface OptionRow extends OptionSpec<Options> {
  commands: readonly Command[];
}

export { BOTH } from './options-shared';
export type Tracked = Options & {
  [overcommitSeen]?: number;
  hogsSet?: boolean;
  layoutSet?: boolean;
  traceWindowSet?: string;
  traceFromSet?: boolean;
};

/** The defaults the help states: simulated time of a run, the mount's ABI, its speed. */
const SIM_TIME_NS = 2e9;
const ABI: Abi = 'modern';
const SPEED = 1;

/** The shortest and longest lock-step: 1 ms, and one `advance_ns` write's limit. */
const LOCKSTEP_MIN_NS = 1e6;
const LOCKSTEP_MAX_NS = 600e9;

/** The option table: flag, argument, help text, which commands take it. */
export const OPTION_SPECS: readonly OptionRow[] = [
  ...MODEL_OPTION_SPECS,
  {
    flag: '--sim-time',
    arg: 'DURATION',
    help: `simulated time to run, e.g. 2s, 500ms (default ${durationText(SIM_TIME_NS)}; with --work, the cap)`,
    commands: ['run'],
    set: (o, v, f) => (o.simTimeNs = parseDurationNs(f, v)),
  },
  {
    flag: '--work',
    arg: 'DURATION',
    help: 'run one job of this much guest CPU work, stop when done (reports did_not_finish at the cap)',
    commands: ['run'],
    set: (o, v, f) => {
      o.sim.jobWorkNs = parseDurationNs(f, v);
      o.work = true;
    },
  },
  {
    flag: '--json',
    help: 'print one JSON object instead of path:content lines',
    commands: ['run'],
    set: (o) => (o.json = true),
  },
  {
    flag: '--script',
    arg: 'FILE',
    help: 'timed knob writes in simulated time, one a line: 10s hogs=12 (see docs/recipes/incident.script)',
    commands: BOTH,
    set: (o, v, f) => (o.script = nonEmptyArg(f, v, 'a script file')),
  },
  {
    flag: '--paused',
    help: 'start with the guest stopped at simulated time 0; echo N > pvlockfs/advance_ns runs N ns',
    commands: ['mount'],
    set: (o) => (o.paused = true),
  },
  {
    flag: '--lockstep',
    arg: 'DURATION',
    help: "for agents that compute rates per wall second: the guest stays stopped and runs DURATION of simulated time, at once, every DURATION of wall time (set it to the agent's interval)",
    commands: ['mount'],
    set: (o, v, f) => (o.lockstepNs = parseBounded(f, v, LOCKSTEP_MAX_NS, LOCKSTEP_MIN_NS)),
  },
  {
    flag: '--background',
    help: 'return once mounted, leaving the daemon running in a session of its own; its ready line names its pid (umount MOUNTPOINT or kill PID unmounts)',
    commands: ['mount'],
    set: (o) => (o.background = true),
  },
  {
    flag: '--abi',
    arg: 'modern|2.6.35',
    help: `kernel behaviour of the files (default ${ABI})`,
    commands: ['mount'],
    set: (o, v, f) => (o.abi = oneOfArg(f, v, ABIS)),
  },
  {
    flag: '--speed',
    arg: 'X',
    help: `simulated ns per wall ns (default ${SPEED})`,
    commands: ['mount'],
    set: (o, v, f) => (o.speed = realArg(f, v, 0.001, 1000)),
  },
  {
    flag: '--max-open-files',
    arg: 'N',
    help: `the most files the mount keeps open (default ${MAX_HANDLES}); past it the least recently used is closed (its next read: EIO), so an open never fails`,
    commands: ['mount'],
    set: (o, v, f) => (o.maxOpenFiles = intArg(f, v, 1, 1 << 20)),
  },
  {
    flag: '--debug',
    help: 'print every FUSE operation (libfuse debug)',
    commands: ['mount'],
    set: (o) => (o.debug = true),
  },
  ...SCENARIO_OPTION_SPECS,
  ...MECHANISM_OPTION_SPECS,
  ...FAULT_OPTION_SPECS,
];

/** Parses the arguments after the command name (`mount` takes one mount point, `run` none). */
export function parseOptions(command: Command, argv: readonly string[]): Options {
  const o: Tracked = {
    sim: defaultConfig(),
    simTimeNs: SIM_TIME_NS,
    work: false,
    json: false,
    abi: ABI,
    speed: SPEED,
    debug: false,
    layout: 'kvm-2010',
    paused: false,
    background: false,
    lockstepNs: null,
    script: null,
    trace: defaultTrace(),
    traceDir: null,
    guests: [],
    maxOpenFiles: MAX_HANDLES,
    fails: [],
    accessLog: null,
    positional: [],
  };
  const specs = OPTION_SPECS.filter((s) => s.commands.includes(command));
  const positionals =
    command === 'mount'
      ? { name: 'mount point', min: 0, max: 1 }
      : { name: 'arguments', min: 0, max: 0 };
  o.positional = parseArgv(command, specs, positionals, argv, o);
  finish(o);
  return o;
}

function finish(o: Tracked): void {
  const k = o[overcommitSeen];
  if (k !== undefined && o.hogsSet)
    throw new UsageError('--overcommit and --hogs: give one or the other');
  // With several guests the overcommit counts every guest's vCPUs.
  const vcpus =
    o.guests.length === 0
      ? o.sim.vcpus
      : o.guests.reduce((n, g) => n + (g.over.vcpus ?? o.sim.vcpus), 0);
  if (!o.hogsSet) o.sim.hogs = hogsForOvercommit(k ?? 2, vcpus, o.sim.pcpus);
  if (o.hogsSet || k !== undefined) o.sim.hogs = Math.min(o.sim.hogs, MAX_HOGS);
  o.sim.loopJobs = !o.work;
  const t = o.trace;
  if (
    o.traceWindowSet &&
    o.traceWindowSet !== '--trace-max-mb' &&
    t.file === null &&
    t.svg === null
  )
    throw new UsageError(`${o.traceWindowSet} needs --trace FILE or --trace-svg FILE`);
  // The default start is past the start-up; a run that ends before it is drawn from its start.
  if (!o.traceFromSet && t.fromNs >= o.simTimeNs) t.fromNs = 0;
  if ((t.file !== null || t.svg !== null) && !t.busiest && t.fromNs >= o.simTimeNs)
    throw new UsageError(
      `--trace-from ${formatNs(t.fromNs)} is not before the end of the run (--sim-time ${formatNs(o.simTimeNs)})`,
    );
  // The layout is the guest kernel's: Xen 2.6.35 keeps xen/spinlocks, the 3.12 pv ticketlock
  // kvm-guest/spinlocks, the pv qspinlock qlockstat, the 2010 guest (stock ticket, the RFC's
  // lock, directed yield on the host) kvm/spinlocks.
  const natural: Layout = naturalLayout(o.sim.lock);
  if (!o.layoutSet) o.layout = natural;
  else if (o.layout !== natural)
    throw new UsageError(
      `--layout ${o.layout} does not go with --lock ${o.sim.lock} (its guest keeps ${natural})`,
    );
  const problems = validateConfig(o.sim);
  if (problems.length > 0) {
    const p = problems[0];
    throw new UsageError(
      `parameter ${p.key}: '${shown(String(p.value))}' is not valid (expected ${p.expected})`,
    );
  }
}
