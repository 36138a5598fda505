import { MAX_HANDLES } from '../debugfs/fs';
import { ABIS, Abi } from '../debugfs/parse';
import { Layout, LAYOUTS, naturalLayout } from '../layout/tree';
import {
  defaultConfig,
  hogsForOvercommit,
  LOCKS,
  MAX_HOGS,
  PINNINGS,
  PLES,
  SimConfig,
} from '../sim/config';
import { validateConfig } from '../sim/config-check';
import { LOCK_ALGORITHMS } from '../sim/lock-registry';
import {
  configIntArg,
  intArg,
  nonEmptyArg,
  oneOfArg,
  OptionSpec,
  parseArgv,
  parseParam,
  realArg,
  ReservedParams,
  shown,
} from './args';
import { formatNs, parseDurationNs } from '../app/duration';
import { defaultTrace, TraceRequest } from '../app/windows';
import { SCENARIO_OPTION_SPECS } from './options-scenario';
import { MECHANISM_OPTION_SPECS } from './options-mechanisms';
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
  positional: string[];
}

export type Command = 'run' | 'mount';
export interface OptionRow extends OptionSpec<Options> {
  commands: readonly Command[];
}

/** Options both `run` and `mount` take. */
export const BOTH = ['run', 'mount'] as const;
const overcommitSeen = Symbol('overcommit');
export type Tracked = Options & {
  [overcommitSeen]?: number;
  hogsSet?: boolean;
  layoutSet?: boolean;
  traceWindowSet?: string;
};

/** Parameters `run` and `mount` set themselves: `--param` names the option to use instead. */
const RESERVED: ReservedParams = { hogs: '--hogs or --overcommit', loopJobs: '--work (run)' };

function setParam(o: Options, text: string, flag: string): void {
  const [key, value] = parseParam(flag, text, RESERVED);
  (o.sim as unknown as Record<string, unknown>)[key] = value;
}

/** The defaults the help text states, read from the model's own defaults so the two cannot drift. */
const DEF = defaultConfig();

/** The option table: flag, argument, help text, which commands take it. */
export const OPTION_SPECS: readonly OptionRow[] = [
  {
    flag: '--seed',
    arg: 'N',
    help: `random seed (default ${DEF.seed}); same seed + options ⇒ identical statistics`,
    commands: BOTH,
    set: (o, v, f) => (o.sim.seed = configIntArg(f, v, 'seed')),
  },
  {
    flag: '--vcpus',
    arg: 'N',
    help: `guest vCPUs (default ${DEF.vcpus})`,
    commands: BOTH,
    set: (o, v, f) => (o.sim.vcpus = configIntArg(f, v, 'vcpus')),
  },
  {
    flag: '--pcpus',
    arg: 'N',
    help: `host pCPUs, ${DEF.coresPerPackage} per package (default ${DEF.pcpus})`,
    commands: BOTH,
    set: (o, v, f) => (o.sim.pcpus = configIntArg(f, v, 'pcpus')),
  },
  {
    flag: '--overcommit',
    arg: 'K',
    help: `host overcommit: K × pCPUs − vCPUs CPU hogs (default ${(DEF.hogs + DEF.vcpus) / DEF.pcpus})`,
    commands: BOTH,
    set: (o, v, f) => ((o as Tracked)[overcommitSeen] = realArg(f, v, 0, 64)),
  },
  {
    flag: '--hogs',
    arg: 'N',
    help: 'number of CPU hogs instead of --overcommit',
    commands: BOTH,
    set: (o, v, f) => {
      o.sim.hogs = configIntArg(f, v, 'hogs');
      (o as Tracked).hogsSet = true;
    },
  },
  {
    flag: '--pinning',
    arg: 'A|B|C',
    help: 'A: vCPU i on pCPU i; B: nothing pinned (default); C: vCPUs on one package',
    commands: BOTH,
    set: (o, v, f) => (o.sim.pinning = oneOfArg(f, v, PINNINGS)),
  },
  {
    flag: '--c-hog-share',
    arg: 'F',
    help: `scenario C: fraction of hogs pinned to the vCPUs' package (default ${DEF.cHogShare})`,
    commands: BOTH,
    set: (o, v, f) => (o.sim.cHogShare = realArg(f, v, 0, 1)),
  },
  {
    flag: '--lock',
    arg: 'NAME',
    help: `guest lock: ${LOCKS.map((l) => `${l}: ${LOCK_ALGORITHMS[l].help}`).join('; ')}`,
    commands: BOTH,
    set: (o, v, f) => (o.sim.lock = oneOfArg(f, v, LOCKS)),
  },
  {
    flag: '--timeout',
    arg: 'N',
    help: `initial spin count before yielding, 0..4294967295 (default ${DEF.timeout})`,
    commands: BOTH,
    set: (o, v, f) => (o.sim.timeout = configIntArg(f, v, 'timeout')),
  },
  {
    flag: '--ple',
    arg: 'off|sleep|yield-to',
    help: 'pause-loop exiting for ticket spinners: none (default), 2.6.35 100 µs sleep, 2.6.39 yield_to',
    commands: BOTH,
    set: (o, v, f) => (o.sim.ple = oneOfArg(f, v, PLES)),
  },
  {
    flag: '--grant-only-to-running',
    help: 'ablation: the ticket lock skips preempted waiters',
    commands: BOTH,
    set: (o) => (o.sim.grantOnlyToRunning = true),
  },
  {
    flag: '--no-bursty',
    help: 'ablation: spread lock requests evenly instead of in kernel bursts',
    commands: BOTH,
    set: (o) => (o.sim.bursty = false),
  },
  {
    flag: '--no-host-noise',
    help: 'ablation: no host background work',
    commands: BOTH,
    set: (o) => (o.sim.hostNoise = false),
  },
  {
    flag: '--no-stalls',
    help: 'ablation: no µs-scale VM-exit stalls',
    commands: BOTH,
    set: (o) => (o.sim.stalls = false),
  },
  {
    flag: '--compat-yield',
    help: 'host yield() moves the yielder behind all others (sched_compat_yield)',
    commands: BOTH,
    set: (o) => (o.sim.compatYield = true),
  },
  {
    flag: '--param',
    arg: 'KEY=VALUE',
    help: 'set any model parameter (see docs/model.md), repeatable',
    commands: BOTH,
    set: setParam,
  },
  {
    flag: '--layout',
    arg: 'NAME',
    help: `debugfs layout: ${LAYOUTS.join(', ')}; follows the lock (${LOCKS.filter(
      (l) => LOCK_ALGORITHMS[l].layout !== 'kvm-2010',
    )
      .map((l) => `${l}: ${LOCK_ALGORITHMS[l].layout}`)
      .join(', ')}; else kvm-2010)`,
    commands: BOTH,
    set: (o, v, f) => {
      o.layout = oneOfArg(f, v, LAYOUTS);
      (o as Tracked).layoutSet = true;
    },
  },
  {
    flag: '--sim-time',
    arg: 'DURATION',
    help: 'simulated time to run, e.g. 2s, 500ms (default 2s; with --work, the cap)',
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
    flag: '--abi',
    arg: 'modern|2.6.35',
    help: 'kernel behaviour of the files (default modern)',
    commands: ['mount'],
    set: (o, v, f) => (o.abi = oneOfArg(f, v, ABIS)),
  },
  {
    flag: '--speed',
    arg: 'X',
    help: 'simulated ns per wall ns (default 1)',
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
];

/** Parses the arguments after the command name (`mount` takes one mount point, `run` none). */
export function parseOptions(command: Command, argv: readonly string[]): Options {
  const o: Tracked = {
    sim: defaultConfig(),
    simTimeNs: 2e9,
    work: false,
    json: false,
    abi: 'modern',
    speed: 1,
    debug: false,
    layout: 'kvm-2010',
    paused: false,
    script: null,
    trace: defaultTrace(),
    traceDir: null,
    guests: [],
    maxOpenFiles: MAX_HANDLES,
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
  if ((t.file !== null || t.svg !== null) && t.fromNs >= o.simTimeNs)
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
