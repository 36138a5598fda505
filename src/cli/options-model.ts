import { LAYOUTS } from '../layout/tree';
import { defaultConfig, LOCKS, PINNINGS, PLES } from '../sim/config';
import { LOCK_ALGORITHMS } from '../sim/lock-registry';
import { configIntArg, oneOfArg, parseParam, realArg, ReservedParams } from './args';
import type { Options, OptionRow, Tracked } from './options';
import { BOTH, overcommitSeen } from './options-shared';

/** Parameters `run` and `mount` set themselves: `--param` names the option to use instead. */
const RESERVED: ReservedParams = { hogs: '--hogs or --overcommit', loopJobs: '--work (run)' };

function setParam(o: Options, text: string, flag: string): void {
  const [key, value] = parseParam(flag, text, RESERVED);
  (o.sim as unknown as Record<string, unknown>)[key] = value;
}

/** The defaults the help text states, read from the model's own defaults so the two cannot drift. */
const DEF = defaultConfig();

/** The model's options, which `run` and `mount` both take: the guest, the host, the lock, `--param`. */
export const MODEL_OPTION_SPECS: readonly OptionRow[] = [
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
];
