import { performance } from 'node:perf_hooks';
import { OutFile } from '../os/out-file';
import { DebugFs } from '../debugfs/fs';
import { machinePort } from '../layout/port';
import { buildTree, readableFiles, readAll } from '../layout/tree';
import { Machine, RunStop } from '../sim/machine';
import { summarize } from '../sim/report';
import type { Options } from './options';
import { Progress, stepProgress } from './progress';
import { Action, loadScript, ScriptedClock, writeThrough } from './script';
import { planGuests } from './guests';
import { runGuestsHeadless } from './run-guests';
import { jsonWindow, outAt, reportTrace, svgWindow, TraceWindow, WindowRunner } from './trace';

/** Simulated time per step of a headless run: progress is reported between steps. */
const STEP_NS = 1e9;

/**
 * The headless result: what `cat` would show at the end, plus the instruments. The simulation
 * runs in steps of one simulated second (the same events as one long step: the result does not
 * depend on the steps); a run that takes more than 2 s of wall time reports its progress.
 */
export function runHeadless(
  o: Options,
  progress?: Progress,
  actions: readonly Action[] = [],
  traceFailures: string[] = [],
): Record<string, unknown> {
  const m = new Machine(o.sim);
  // The files exist from the start: a script's actions are written through them, as a user's
  // `echo` to the mount would be. `running=0` in a script ends the run at that instant.
  let running = 1;
  const port = machinePort(m, {}, { get: () => running, set: (v) => (running = v & 0xff) });
  const fs = new DebugFs(buildTree(port, 'modern', 0, o.layout), 'modern', () => 0);
  const clock = new ScriptedClock(m, actions, writeThrough(fs));
  const stopped = (): boolean => running === 0;
  const windows = new WindowRunner(m, traceWindows(o, m));
  fs.onWritten = (name, value) => windows.knob(name, value);
  const t0 = performance.now();
  for (let t = 0; t < o.simTimeNs && !stopped();) {
    t = windows.nextStop(Math.min(o.simTimeNs, t + STEP_NS));
    const r = clock.runTo(t, Infinity, stopped);
    windows.update();
    if (r === RunStop.JobFinished) break;
    stepProgress(progress, t, o.simTimeNs, t0, performance.now());
  }
  progress?.end();
  for (const r of windows.finish()) if (!reportTrace(r)) traceFailures.push(r.error);
  const wallMs = performance.now() - t0;
  const files = readAll(fs, readableFiles(o.layout));
  const report = summarize(m);
  return {
    seed: o.sim.seed,
    layout: o.layout,
    config: o.sim,
    sim_time_ns: m.nowNs,
    events: m.events,
    wall_ms: Math.round(wallMs * 1000) / 1000,
    files,
    vcpus: report.vcpus,
    job: report.job,
    locks: report.locks,
  };
}

/** The trace windows `o` asks for (a JSON trace, an SVG), each with the run's metadata. */
function traceWindows(o: Options, m: Machine): TraceWindow[] {
  const t = o.trace;
  const out: TraceWindow[] = [];
  const meta = { generator: 'pvlockfs run', seed: o.sim.seed, layout: o.layout, config: o.sim };
  const end = (forNs: number): number => Math.min(o.simTimeNs, t.fromNs + forNs);
  if (t.file !== null)
    out.push(jsonWindow(m, outAt(t.file, '--trace'), t.fromNs, end(t.forNs), t.maxBytes, meta));
  if (t.svg !== null) {
    const title = `pvlockfs: ${o.sim.lock}, ${o.sim.vcpus} vCPUs on ${o.sim.pcpus} pCPUs, ${o.sim.hogs} hogs, pinning ${o.sim.pinning}, seed ${o.sim.seed}`;
    out.push(svgWindow(m, outAt(t.svg, '--trace-svg'), t.fromNs, end(t.svgForNs), title));
  }
  return out;
}

/** `pvlockfs run`: prints JSON, or `path:content` lines as `grep -r .` on the mount would. */
export async function runCommand(
  o: Options,
  write: (s: string) => void,
  progress?: Progress,
): Promise<number> {
  const plans = planGuests(o.sim, o.guests);
  const actions = o.script === null ? [] : await loadScript(o.script, o.layout, plans);
  // An output that will be refused is refused now, not after the run.
  if (o.trace.file !== null) OutFile.open(o.trace.file, '--trace').abort();
  if (o.trace.svg !== null) OutFile.open(o.trace.svg, '--trace-svg').abort();
  // A trace file that could not be written does not lose the run's result: it is printed, and
  // the command then exits 1 (the reason is on stderr already).
  const traceFailures: string[] = [];
  const result =
    plans.length > 0
      ? runGuestsHeadless(o, plans, progress, actions, traceFailures)
      : runHeadless(o, progress, actions, traceFailures);
  const status = traceFailures.length > 0 ? 1 : 0;
  if (o.json) {
    write(`${JSON.stringify(result)}\n`);
    return status;
  }
  // Several guests: each guest's files under its name, as `grep -r .` in the mount's root shows.
  const roots: [string, Record<string, string>][] =
    plans.length > 0
      ? Object.entries(result.guests as Record<string, { files: Record<string, string> }>).map(
          ([name, g]) => [`${name}/`, g.files],
        )
      : [['', result.files as Record<string, string>]];
  for (const [prefix, files] of roots)
    for (const [path, text] of Object.entries(files)) {
      for (const line of text.split('\n').slice(0, -1)) write(`${prefix}${path}:${line}\n`);
    }
  return status;
}
