import { Cat, CAT_COUNT, CAT_NAMES, LatencyHisto } from './instruments';
import type { Guest } from './guest';
import type { Machine } from './machine';
import { mechanismCounters } from './mechanisms';

/** Per-vCPU numbers of a run. */
export type VcpuReport = Record<string, number>;

/** The instruments of one run, as plain numbers (deterministic for a seed and config). */
export interface RunReport {
  vcpus: VcpuReport[];
  job: Record<string, number | boolean | number[]>;
  locks: Record<string, number>;
}

/** One vCPU's time up to now: on a pCPU, and split by category (`Cat`). */
export interface VcpuTime {
  onCpuNs: number;
  timeNs: Float64Array;
  /** Preempted-holder waste: spinning, in the yield hypercall (parts of timeNs's Spin, Yield). */
  lhpNs: Float64Array;
}

/**
 * Every vCPU's time up to the machine's now (the current stint of each category closed first):
 * the one place both summaries — `run --json`'s and the experiment's — take it from.
 */
export function vcpuTimes(m: Machine, g: Guest = m.guest): VcpuTime[] {
  return g.vcpus.map((v) => {
    g.recat(v);
    return { onCpuNs: m.host.onCpuNs(v.task), timeNs: v.timeNs, lhpNs: v.lhpNs };
  });
}

/**
 * The measures of one guest at the machine's now, from which both summaries are rendered — the
 * `run --json` report (`summarize`) and an experiment's run (`experiment/run.ts`).
 */
export interface GuestMeasures {
  nowNs: number;
  times: VcpuTime[];
  /** Every vCPU's time on a pCPU, summed, and the part of it spent spinning. */
  onCpuNs: number;
  spinNs: number;
  /**
   * Preempted-holder waste, summed over the vCPUs: the part of `spinNs` spent spinning while the
   * lock's holder (or the waiter it was handed to) was preempted, and the time in the yield
   * hypercall meanwhile (part of blocked_in_yield_ns).
   */
  lhpSpinNs: number;
  lhpYieldNs: number;
  /** The lowest and highest share of the simulated time one vCPU held a pCPU. */
  vcpuShareMin: number;
  vcpuShareMax: number;
  waits: LatencyHisto;
  /** The longest convoy still open at now, and the longest of all (closed or open). */
  convoyOpenMaxNs: number;
  convoyMaxNs: number;
}

export function measure(m: Machine, g: Guest = m.guest): GuestMeasures {
  const now = m.nowNs;
  const times = vcpuTimes(m, g);
  let onCpuNs = 0;
  let spinNs = 0;
  let lhpSpinNs = 0;
  let lhpYieldNs = 0;
  let vcpuShareMin = Infinity;
  let vcpuShareMax = 0;
  for (const t of times) {
    onCpuNs += t.onCpuNs;
    spinNs += t.timeNs[Cat.Spin];
    lhpSpinNs += t.lhpNs[0];
    lhpYieldNs += t.lhpNs[1];
    const share = now > 0 ? t.onCpuNs / now : 0;
    vcpuShareMin = Math.min(vcpuShareMin, share);
    vcpuShareMax = Math.max(vcpuShareMax, share);
  }
  let convoyOpenMaxNs = 0;
  for (const l of g.locks)
    if (l.convoySinceNs >= 0) convoyOpenMaxNs = Math.max(convoyOpenMaxNs, now - l.convoySinceNs);
  return {
    nowNs: now,
    times,
    onCpuNs,
    spinNs,
    lhpSpinNs,
    lhpYieldNs,
    vcpuShareMin,
    vcpuShareMax,
    // Every vCPU's waits together, merged now (one histogram fewer per acquisition).
    waits: LatencyHisto.merged(g.vcpus.map((v) => v.wait)),
    convoyOpenMaxNs,
    convoyMaxNs: Math.max(g.convoys.maxNs, convoyOpenMaxNs),
  };
}

/** Summarises a machine (one of its guests: the first by default) at its current simulated time. */
export function summarize(m: Machine, g: Guest = m.guest): RunReport {
  const { nowNs: now, times, waits, convoyOpenMaxNs, convoyMaxNs, ...w } = measure(m, g);
  const vcpus = g.vcpus.map((v) => {
    const r: VcpuReport = { vcpu: v.index };
    for (let c = 0; c < CAT_COUNT; c++) r[CAT_NAMES[c]] = times[v.index].timeNs[c];
    // CPU share: the fraction of simulated time the vCPU held a pCPU.
    const onCpu = times[v.index].onCpuNs;
    r.spinning_holder_preempted_ns = times[v.index].lhpNs[0];
    r.in_yield_holder_preempted_ns = times[v.index].lhpNs[1];
    r.overhead_ns = v.overheadNs;
    r.cpu_share = now > 0 ? round6(onCpu / now) : 0;
    r.acquisitions = v.acquisitions;
    r.slow_paths = v.slowPaths;
    r.preempted_holding = v.preemptedHolding;
    r.migrations = v.task.migrations;
    r.lock_wait_p50_ns = v.wait.quantileNs(0.5);
    r.lock_wait_p99_ns = v.wait.quantileNs(0.99);
    r.lock_wait_max_ns = v.wait.maxNs;
    return r;
  });
  const totalWork = g.job.totalNs;
  const cv = g.convoys;
  const lock = g.algo.counts;
  return {
    vcpus,
    job: {
      work_ns: g.cfg.jobWorkNs,
      loop: g.cfg.loopJobs,
      completed: g.job.completed,
      completion_ns: [...g.job.timesNs],
      finished: g.job.finished,
      did_not_finish: !g.cfg.loopJobs && !g.job.finished,
      work_done_ns: totalWork,
      work_per_sim_s: now > 0 ? round6(totalWork / now) : 0,
    },
    locks: {
      acquisitions: g.acquisitions,
      contended: g.contended,
      lock_wait_p50_ns: waits.quantileNs(0.5),
      lock_wait_p99_ns: waits.quantileNs(0.99),
      lock_wait_max_ns: waits.maxNs,
      host_preemptions_of_holders: g.preemptedHolders,
      spinning_holder_preempted_ns: w.lhpSpinNs,
      in_yield_holder_preempted_ns: w.lhpYieldNs,
      holder_preempted_waste_share: w.onCpuNs > 0 ? round6(w.lhpSpinNs / w.onCpuNs) : 0,
      grants_to_preempted_waiters: lock.grantsToPreempted,
      convoy_episodes: cv.episodes,
      convoy_episodes_closed: cv.closed,
      convoy_mean_ns: cv.closed > 0 ? Math.round(cv.totalNs / cv.closed) : 0,
      convoy_max_ns: convoyMaxNs,
      convoy_open_max_ns: convoyOpenMaxNs,
      stalls: g.stalls,
      yields: lock.yields,
      yields_switched: lock.yieldsSwitched,
      pv_ticket_slow_paths: lock.slowPaths,
      pv_ticket_kicks: lock.kicks,
      directed_yields: g.kvm.directedYields,
      directed_yields_honoured: m.host.boosts,
      ple_exits: g.kvm.pleExits,
      // The RFC's solutions (b) and (c): reported when they are on (runs without them keep
      // exactly the fields they always had).
      ...(m.cfg.preemptHints
        ? {
            hint_deferrals_granted: m.host.hints.granted,
            hint_deferrals_expired: m.host.hints.expired,
            hint_yields_on_release: m.host.hints.yields,
          }
        : {}),
      ...(g.cfg.runState ? { run_state_stops: lock.runStateStops } : {}),
      ...mechanismCounters(g),
    },
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
