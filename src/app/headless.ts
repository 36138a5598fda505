import { performance } from 'node:perf_hooks';
import { DebugFs } from '../debugfs/fs';
import { readableFiles, readAll } from '../layout/tree';
import { guestCpuNs, guestEntitlements } from '../sim/fairness';
import { Machine, RunStop } from '../sim/machine';
import { summarize } from '../sim/report';
import { planTree } from './host-tree';
import { machineOf, RunPlan } from './plan';
import { Progress, stepProgress } from './progress';
import { Action, ScriptedClock, writeThrough } from './script';
import {
  jsonWindow,
  outAt,
  svgWindow,
  TraceRequest,
  TraceWindow,
  WindowResult,
  WindowRunner,
} from './windows';

/** Simulated time per step of a headless run: progress (and fairness) are taken between steps. */
const STEP_NS = 1e9;

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/** How long a headless run runs, and what it records. */
export interface HeadlessRequest {
  simTimeNs: number;
  trace: TraceRequest;
}

/** What a headless run leaves: its result (the JSON of `run --json`) and its recordings. */
export interface HeadlessOutcome {
  result: Record<string, unknown>;
  windows: WindowResult[];
}

/**
 * Runs a plan headless for `simTimeNs` (or until its jobs finish, or a script's `running=0`): one
 * loop for one guest or many, in steps of one simulated second that stop at every trace
 * window's start and end (the same events as one long step: the result does not depend on the
 * steps). A script's actions are written through the files, as a user's `echo` to the mount
 * would be. The result is what `cat` would show at the end, plus the instruments; with named
 * guests, per guest, and the CPU each received against its entitlement, over the run and per
 * simulated second. A run that takes more than 2 s of wall time reports its progress.
 */
export function runHeadless(
  plan: RunPlan,
  req: HeadlessRequest,
  progress?: Progress,
  actions: readonly Action[] = [],
): HeadlessOutcome {
  const trace = req.trace.busiest
    ? { ...req.trace, fromNs: busiestFromNs(plan, req, actions) }
    : req.trace;
  const { m, fs, clock, stopped, guestRoots } = headlessMachine(plan, actions);
  const windows = new WindowRunner(m, traceWindows(plan, { ...req, trace }, m));
  fs.onWritten = (name, value) => windows.knob(name, value);
  const fairness = plan.named ? new FairnessSampler(m) : null;
  const t0 = performance.now();
  let finished = false;
  for (let step = 0; step < req.simTimeNs && !stopped() && !finished;) {
    step = Math.min(req.simTimeNs, step + STEP_NS);
    while (m.nowNs < step && !stopped() && !finished) {
      finished = clock.runTo(windows.nextStop(step), Infinity, stopped) === RunStop.JobFinished;
      windows.update();
    }
    if (stopped() || finished) step = m.nowNs;
    fairness?.sample(step);
    stepProgress(progress, step, req.simTimeNs, t0, performance.now());
  }
  progress?.end();
  const recorded = windows.finish();
  const wallMs = Math.round((performance.now() - t0) * 1000) / 1000;
  const run = { sim_time_ns: m.nowNs, events: m.events, wall_ms: wallMs };
  const files = guestRoots.map((r, i) =>
    readAll(new DebugFs(r, 'modern', () => 0), readableFiles(plan.guests[i].layout)),
  );
  if (!plan.named) {
    const report = summarize(m);
    const result = {
      seed: plan.sim.seed,
      layout: plan.layout,
      config: plan.sim,
      ...run,
      files: files[0],
    };
    return {
      result: { ...result, vcpus: report.vcpus, job: report.job, locks: report.locks },
      windows: recorded,
    };
  }
  return {
    result: hostResult(plan, m, run, files, fairness as FairnessSampler),
    windows: recorded,
  };
}

/** The result of a run with named guests: the host, then per guest its files, instruments and CPU. */
function hostResult(
  plan: RunPlan,
  m: Machine,
  run: Record<string, number>,
  files: Record<string, string>[],
  fairness: FairnessSampler,
): Record<string, unknown> {
  const now = m.nowNs;
  const ent = guestEntitlements(m);
  const guests: Record<string, unknown> = {};
  plan.guests.forEach((p, i) => {
    const report = summarize(m, m.guests[i]);
    const received = now > 0 ? fairness.lastCpuNs[i] / now : 0;
    guests[p.name] = {
      layout: p.layout,
      config: p.cfg,
      files: files[i],
      vcpus: report.vcpus,
      job: report.job,
      locks: report.locks,
      cpu: {
        received_pcpus: r4(received),
        entitlement_pcpus: r4(ent[i]),
        share_of_host: r4(received / m.cfg.pcpus),
        received_over_entitlement: r4(received / ent[i]),
        per_second: fairness.perSecond[i],
      },
    };
  });
  return {
    seed: plan.sim.seed,
    host: {
      pcpus: plan.sim.pcpus,
      hogs: m.hogCount,
      yield_reclaim: plan.sim.yieldReclaim,
      compat_yield: plan.sim.compatYield,
    },
    config: plan.sim,
    ...run,
    guests,
  };
}

/**
 * A plan's machine run headless: its tree and files (a script writes through them, as `echo`
 * would), the clock that applies the script, and whether a `running=0` stopped it.
 */
function headlessMachine(plan: RunPlan, actions: readonly Action[]) {
  const m = machineOf(plan);
  let running = 1;
  const control = { get: () => running, set: (v: number) => (running = v & 0xff) };
  const { root, guestRoots } = planTree(plan, m, { extra: {}, control, abi: 'modern', nowMs: 0 });
  const fs = new DebugFs(root, 'modern', () => 0);
  const clock = new ScriptedClock(m, actions, writeThrough(fs));
  const stopped = (): boolean => running === 0;
  return { m, fs, clock, stopped, guestRoots };
}

/** How finely the search for the busiest window steps: a quarter of the window. */
const BUSIEST_STEPS = 4;

/**
 * `--trace-from busiest`: where the window (the SVG's, else the JSON's) with the most holder
 * preemptions starts, found by a first run of the same plan and script (the same events, since
 * the run does not depend on its steps); windows start at multiples of a quarter window and end
 * by the run's end, the earliest of equals wins, and a run shorter than a window gives 0.
 */
function busiestFromNs(plan: RunPlan, req: HeadlessRequest, actions: readonly Action[]): number {
  const t = req.trace;
  const windowNs = Math.min(req.simTimeNs, t.svg !== null ? t.svgForNs : t.forNs);
  const step = Math.max(1, Math.floor(windowNs / BUSIEST_STEPS));
  const { m, clock, stopped } = headlessMachine(plan, actions);
  const preempted = (): number => m.guests.reduce((n, g) => n + g.preemptedHolders, 0);
  // The holder preemptions so far at each multiple of the step.
  const at = [0];
  for (let to = step; to <= req.simTimeNs && !stopped(); to += step) {
    const done = clock.runTo(to, Infinity, stopped) === RunStop.JobFinished;
    at.push(preempted());
    if (done) break;
  }
  let best = 0;
  let bestCount = -1;
  for (let k = 0; k + BUSIEST_STEPS < at.length; k++) {
    const count = at[k + BUSIEST_STEPS] - at[k];
    if (count > bestCount) [best, bestCount] = [k, count];
  }
  return best * step;
}

/** Each guest's CPU against its entitlement, per step of simulated time. */
class FairnessSampler {
  readonly perSecond: number[][];
  lastCpuNs: number[];
  private lastNs = 0;
  private readonly ent: number[];

  constructor(private readonly m: Machine) {
    this.perSecond = m.guests.map(() => []);
    this.lastCpuNs = guestCpuNs(m);
    this.ent = guestEntitlements(m);
  }

  /** Takes the step that ended at `stepNs`. */
  sample(stepNs: number): void {
    const cpu = guestCpuNs(this.m);
    if (stepNs > this.lastNs)
      cpu.forEach((c, i) =>
        this.perSecond[i].push(r4((c - this.lastCpuNs[i]) / (stepNs - this.lastNs) / this.ent[i])),
      );
    this.lastCpuNs = cpu;
    this.lastNs = stepNs;
  }
}

/** The trace windows asked for (a JSON trace, an SVG), each with the run's metadata. */
function traceWindows(plan: RunPlan, req: HeadlessRequest, m: Machine): TraceWindow[] {
  const t = req.trace;
  const out: TraceWindow[] = [];
  const s = plan.sim;
  const meta = plan.named
    ? {
        generator: 'pvlockfs run',
        seed: s.seed,
        config: s,
        guests: plan.guests.map((p) => ({ name: p.name, config: p.cfg })),
      }
    : { generator: 'pvlockfs run', seed: s.seed, layout: plan.layout, config: s };
  const end = (forNs: number): number => Math.min(req.simTimeNs, t.fromNs + forNs);
  if (t.file !== null)
    out.push(jsonWindow(m, outAt(t.file, '--trace'), t.fromNs, end(t.forNs), t.maxBytes, meta));
  if (t.svg !== null) {
    const title = plan.named
      ? `pvlockfs: guests ${plan.guests.map((p) => `${p.name} (${p.cfg.lock}, ${p.cfg.vcpus} vCPUs)`).join(', ')} on ${s.pcpus} pCPUs, ${m.hogCount} hogs`
      : `pvlockfs: ${s.lock}, ${s.vcpus} vCPUs on ${s.pcpus} pCPUs, ${s.hogs} hogs, pinning ${s.pinning}, seed ${s.seed}`;
    out.push(svgWindow(m, outAt(t.svg, '--trace-svg'), t.fromNs, end(t.svgForNs), title));
  }
  return out;
}
