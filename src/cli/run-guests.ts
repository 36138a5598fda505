import { performance } from 'node:perf_hooks';
import { DebugFs } from '../debugfs/fs';
import { machinePort } from '../layout/port';
import { buildTree, readableFiles, readAll } from '../layout/tree';
import { guestCpuNs, guestEntitlements } from '../sim/fairness';
import { Machine, RunStop } from '../sim/machine';
import { summarize } from '../sim/report';
import { GuestPlan } from './guests';
import type { Options } from './options';
import { Progress, stepProgress } from './progress';
import { Action, ScriptedClock, writeThrough } from './script';
import { guestsTree } from './mount-guests';
import { jsonWindow, outAt, reportTrace, svgWindow, WindowRunner } from './trace';

/** Fairness is sampled once per simulated second. */
const STEP_NS = 1e9;

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/** A machine with several guests, each read through its own tree (the mount's DIR/NAME/). */
export function guestsMachine(
  o: Options,
  plans: readonly GuestPlan[],
): { m: Machine; trees: DebugFs[]; host: DebugFs; running: () => number } {
  const m = new Machine(
    o.sim,
    plans.map((p) => ({ name: p.name, cfg: p.cfg })),
  );
  let running = 1;
  const clock = { get: () => running, set: (v: number) => (running = v & 0xff) };
  const roots = plans.map((p, i) =>
    buildTree(machinePort(m, {}, clock, undefined, i), 'modern', 0, p.layout),
  );
  const trees = roots.map((r) => new DebugFs(r, 'modern', () => 0));
  // The whole mount's tree too: a script writes `NAME/…` and the host's knobs through it.
  const host = new DebugFs(
    guestsTree(m, plans, {}, clock, 'modern', 0, undefined, roots),
    'modern',
    () => 0,
  );
  return { m, trees, host, running: () => running };
}

/**
 * `run` with several guests: the host runs them together for `--sim-time`; the result has, per
 * guest, what `cat` shows in its root, its instruments, and its fairness: the CPU it received
 * (in pCPUs) against its entitlement (its weighted share of the host, no more than its vCPUs), over
 * the run and per simulated second.
 */
export function runGuestsHeadless(
  o: Options,
  plans: readonly GuestPlan[],
  progress?: Progress,
  actions: readonly Action[] = [],
  traceFailures: string[] = [],
): Record<string, unknown> {
  const { m, trees, host, running } = guestsMachine(o, plans);
  // A script's `running=0` ends the run at that instant, as with one guest.
  const clock = new ScriptedClock(m, actions, writeThrough(host));
  const stopped = (): boolean => running() === 0;
  const ent = guestEntitlements(m);
  const t = o.trace;
  const meta = {
    generator: 'pvlockfs run',
    seed: o.sim.seed,
    config: o.sim,
    guests: plans.map((p) => ({ name: p.name, config: p.cfg })),
  };
  const title = `pvlockfs: guests ${plans.map((p) => `${p.name} (${p.cfg.lock}, ${p.cfg.vcpus} vCPUs)`).join(', ')} on ${o.sim.pcpus} pCPUs, ${m.hogCount} hogs`;
  const svg =
    t.svg === null
      ? []
      : [
          svgWindow(
            m,
            outAt(t.svg, '--trace-svg'),
            t.fromNs,
            Math.min(o.simTimeNs, t.fromNs + t.svgForNs),
            title,
          ),
        ];
  const windows = new WindowRunner(
    m,
    t.file === null
      ? svg
      : [
          ...svg,
          jsonWindow(
            m,
            outAt(t.file, '--trace'),
            t.fromNs,
            Math.min(o.simTimeNs, t.fromNs + t.forNs),
            t.maxBytes,
            meta,
          ),
        ],
  );
  host.onWritten = (name, value) => windows.knob(name, value);
  const perSecond: number[][] = plans.map(() => []);
  let last = guestCpuNs(m);
  let lastT = 0;
  const t0 = performance.now();
  // With --work every guest runs one job; the run ends when the last one is done.
  let allDone = false;
  for (let step = 0; step < o.simTimeNs && !stopped() && !allDone;) {
    step = Math.min(o.simTimeNs, step + STEP_NS);
    // Stop at every trace window's start and end on the way (the same events either way).
    while (m.nowNs < step && !stopped() && !allDone) {
      allDone = clock.runTo(windows.nextStop(step), Infinity, stopped) === RunStop.JobFinished;
      windows.update();
    }
    if (stopped() || allDone) step = m.nowNs;
    const cpu = guestCpuNs(m);
    if (step > lastT)
      cpu.forEach((c, i) => perSecond[i].push(r4((c - last[i]) / (step - lastT) / ent[i])));
    last = cpu;
    lastT = step;
    stepProgress(progress, step, o.simTimeNs, t0, performance.now());
  }
  progress?.end();
  for (const r of windows.finish()) if (!reportTrace(r)) traceFailures.push(r.error);
  const wallMs = performance.now() - t0;
  const now = m.nowNs;
  const guests: Record<string, unknown> = {};
  plans.forEach((p, i) => {
    const report = summarize(m, m.guests[i]);
    const received = now > 0 ? last[i] / now : 0;
    guests[p.name] = {
      layout: p.layout,
      config: p.cfg,
      files: readAll(trees[i], readableFiles(p.layout)),
      vcpus: report.vcpus,
      job: report.job,
      locks: report.locks,
      cpu: {
        received_pcpus: r4(received),
        entitlement_pcpus: r4(ent[i]),
        share_of_host: r4(received / m.cfg.pcpus),
        received_over_entitlement: r4(received / ent[i]),
        per_second: perSecond[i],
      },
    };
  });
  return {
    seed: o.sim.seed,
    host: {
      pcpus: o.sim.pcpus,
      hogs: m.hogCount,
      yield_reclaim: o.sim.yieldReclaim,
      compat_yield: o.sim.compatYield,
    },
    config: o.sim,
    sim_time_ns: now,
    events: m.events,
    wall_ms: Math.round(wallMs * 1000) / 1000,
    guests,
  };
}
