import { defaultConfig, hogsForOvercommit, LockAlgorithm, Pinning, SimConfig } from '../sim/config';
import { Machine } from '../sim/machine';
import { measure } from '../sim/report';
import { guestCpuNs, guestEntitlements } from '../sim/fairness';
import { Histo } from '../sim/stats';
import { LOCK_ALGORITHMS } from '../sim/lock-registry';

/** One run of an experiment: a scenario, an overcommit, a lock, a seed. */
export interface RunSpec {
  scenario: Pinning;
  overcommit: number;
  lock: LockAlgorithm;
  seed: number;
  workNs: number;
  capNs: number;
  params: Partial<SimConfig>;
  /**
   * Several guests on the host instead of one (each `params` over the run's configuration; seeds
   * seed + position): every guest loops its job for `capNs` of simulated time, and the run
   * reports each guest's CPU against its entitlement. The measures of one guest are the first's.
   */
  guests?: { name: string; params: Partial<SimConfig> }[];
  /** Count the acquisitions made between these two instants (`windowAcquisitions`). */
  rateWindowNs?: [number, number];
}

/** What one run measured. Times are simulated nanoseconds. */
export interface RunResult {
  spec: RunSpec;
  completionNs: number | null;
  simNs: number;
  events: number;
  cpuShare: number;
  /** Lowest and highest CPU share of a single vCPU (fairness inside the guest). */
  vcpuShareMin: number;
  vcpuShareMax: number;
  lockWaitP99Ns: number;
  lockWaitP999Ns: number;
  lockWaitMaxNs: number;
  grantsToPreempted: number;
  preemptedHolders: number;
  convoyEpisodes: number;
  convoyMaxNs: number;
  spinShare: number;
  /** The part of the vCPUs' CPU time spent spinning while the lock's holder was preempted. */
  lhpShare: number;
  histoSpinning: number[];
  histoBlocked: number[];
  /** Locks acquired over the run. */
  acquisitions: number;
  /** The qlockstat counters (the lock keeps them: pv-qspinlock, pv-hybrid), in the kernel's order. */
  qstats?: number[];
  /** With `rateWindowNs`: the locks acquired inside it. */
  windowAcquisitions?: number;
  /** Several guests: each guest's CPU received and entitled to, in pCPUs. */
  guestCpu?: { name: string; received: number; entitlement: number }[];
}

/** The configuration of a run: defaults, the experiment's parameter set, then the cell. */
export function runConfig(spec: RunSpec): SimConfig {
  const base = { ...defaultConfig(), ...spec.params };
  return {
    ...base,
    seed: spec.seed,
    pinning: spec.scenario,
    lock: spec.lock,
    hogs: hogsForOvercommit(spec.overcommit, base.vcpus, base.pcpus),
    jobWorkNs: spec.workNs,
    loopJobs: false,
  };
}

/** Runs one job to completion (or to the cap, which reports `completionNs: null`). */
export function runOne(spec: RunSpec): RunResult {
  const m = spec.guests ? guestsMachine(spec) : new Machine(runConfig(spec));
  const g = m.guest;
  let windowAcquisitions: number | undefined;
  if (spec.rateWindowNs) {
    const taken = (): number => g.vcpus.reduce((n, v) => n + v.acquisitions, 0);
    m.runUntil(spec.rateWindowNs[0]);
    const before = taken();
    m.runUntil(spec.rateWindowNs[1]);
    windowAcquisitions = taken() - before;
  }
  m.runUntil(spec.capNs);
  const ms = measure(m, g);
  const now = ms.nowNs;
  return {
    spec,
    completionNs: g.job.finished ? (g.job.timesNs[0] ?? now) : null,
    simNs: now,
    events: m.events,
    cpuShare: now > 0 ? ms.onCpuNs / (now * g.vcpus.length) : 0,
    vcpuShareMin: ms.vcpuShareMin,
    vcpuShareMax: ms.vcpuShareMax,
    lockWaitP99Ns: ms.waits.quantileNs(0.99),
    lockWaitP999Ns: ms.waits.quantileNs(0.999),
    lockWaitMaxNs: ms.waits.maxNs,
    grantsToPreempted: g.algo.counts.grantsToPreempted,
    preemptedHolders: g.preemptedHolders,
    convoyEpisodes: g.convoys.episodes,
    convoyMaxNs: ms.convoyMaxNs,
    spinShare: ms.onCpuNs > 0 ? ms.spinNs / ms.onCpuNs : 0,
    lhpShare: ms.onCpuNs > 0 ? ms.lhpSpinNs / ms.onCpuNs : 0,
    histoSpinning: [...g.stats.histo[Histo.Spinning]],
    histoBlocked: [...g.stats.histo[Histo.Blocked]],
    acquisitions: g.vcpus.reduce((n, v) => n + v.acquisitions, 0),
    ...(LOCK_ALGORITHMS[g.cfg.lock].layout === 'qlockstat' ? { qstats: [...g.qstats.count] } : {}),
    ...(windowAcquisitions === undefined ? {} : { windowAcquisitions }),
    ...(spec.guests
      ? {
          guestCpu: guestEntitlements(m).map((entitlement, i) => ({
            name: m.names[i],
            received: now > 0 ? guestCpuNs(m)[i] / now : 0,
            entitlement,
          })),
        }
      : {}),
  };
}

/** The machine of a run with several guests: the overcommit counts every guest's vCPUs. */
function guestsMachine(spec: RunSpec): Machine {
  const base = { ...runConfig(spec), loopJobs: true };
  const setups = (spec.guests ?? []).map((g, i) => ({
    name: g.name,
    cfg: { ...base, seed: spec.seed + i, ...g.params },
  }));
  const vcpus = setups.reduce((n, s) => n + s.cfg.vcpus, 0);
  return new Machine(
    { ...base, hogs: hogsForOvercommit(spec.overcommit, vcpus, base.pcpus) },
    setups,
  );
}
