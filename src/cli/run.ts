import { performance } from 'node:perf_hooks';
import { DebugFs } from '../debugfs/fs';
import { machinePort } from '../layout/port';
import { buildTree, readableFiles, readAll } from '../layout/tree';
import { Machine } from '../sim/machine';
import { summarize } from '../sim/report';
import type { Options } from './options';

/** The headless result: what `cat` would show at the end, plus the instruments. */
export function runHeadless(o: Options): Record<string, unknown> {
  const m = new Machine(o.sim);
  const t0 = performance.now();
  m.runUntil(o.simTimeNs);
  const wallMs = performance.now() - t0;
  const port = machinePort(m, {}, { get: () => 1, set: () => undefined });
  const fs = new DebugFs(buildTree(port, 'modern', 0, o.layout), 'modern', () => 0);
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

/** `pvlockfs run`: prints JSON, or `path:content` lines as `grep -r .` on the mount would. */
export function runCommand(o: Options, write: (s: string) => void): number {
  const result = runHeadless(o);
  if (o.json) {
    write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  const files = result.files as Record<string, string>;
  for (const [path, text] of Object.entries(files)) {
    for (const line of text.split('\n').slice(0, -1)) write(`${path}:${line}\n`);
  }
  return 0;
}
