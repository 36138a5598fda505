import { Machine, RunStop } from '../../sim/machine';
import type { LockAlgorithm, Pinning, SimConfig } from '../../sim/config';
import { runConfig } from '../../experiment/run';
import type { PinnedDir } from '../../os/dir';
import { OutFile } from '../../os/out-file';
import { shownPath } from '../../os/shown';
import { RuntimeError } from '../errors';
import { jsonWindow, svgWindow, TraceWindow, WindowResult, WindowRunner } from '../windows';

/** A cell of the matrix named as `A2`: scenario and overcommit. */
export interface CellName {
  scenario: Pinning;
  overcommit: number;
}

/** What the experiment records of one cell and lock. */
export interface CellTraceRequest {
  cell: CellName;
  lock: LockAlgorithm;
  /** Write the JSON trace (else only the SVG). */
  json: boolean;
  fromNs: number;
  forNs: number;
  svgForNs: number;
}

/** What was written for one cell and lock. */
export interface CellTraceResult {
  cell: string;
  lock: LockAlgorithm;
  json: WindowResult | null;
  /** Null when the cell's run ended before the window opened. */
  svg: WindowResult | null;
  /** When the run stopped (the window's end, or the job's). */
  endNs: number;
}

/**
 * Runs repetition 0 of a cell (the experiment's first seed and parameters) up to the end of its
 * windows and writes `trace-<cell>-<lock>.json` (if asked) and `timeline-<cell>-<lock>.svg` in
 * `dir`. The run is the matrix's own first run of that cell, cut short: the same events.
 */
export function traceCell(
  dir: PinnedDir,
  r: CellTraceRequest,
  base: { seed: number; workNs: number; capNs: number; params: Partial<SimConfig> },
): CellTraceResult {
  const name = `${r.cell.scenario}${r.cell.overcommit}`;
  const cfg = runConfig({ ...base, ...r.cell, lock: r.lock });
  const m = new Machine(cfg);
  const meta = { generator: 'pvlockfs experiment', cell: name, seed: cfg.seed, config: cfg };
  const windows: TraceWindow[] = [];
  const stem = `${name}-${r.lock}`;
  const toJson = r.fromNs + r.forNs;
  const toSvg = r.fromNs + r.svgForNs;
  const open = (name: string) => () => OutFile.inDir(dir, name, `--out ${shownPath(dir.path)}`);
  if (r.json)
    windows.push(jsonWindow(m, open(`trace-${stem}.json`), r.fromNs, toJson, 1024e6, meta));
  const title = `pvlockfs: cell ${r.cell.scenario}-${r.cell.overcommit}x, ${r.lock}, seed ${cfg.seed}`;
  windows.push(svgWindow(m, open(`timeline-${stem}.svg`), r.fromNs, toSvg, title));
  const results = runWindows(m, windows, Math.max(r.json ? toJson : 0, toSvg));
  const failed = results.find((x) => x.error !== '');
  if (failed !== undefined) throw new RuntimeError(failed.error);
  const svg = results.find((x) => x.file.endsWith('.svg')) ?? null;
  const json = results.find((x) => x.file.endsWith('.json')) ?? null;
  return { cell: name, lock: r.lock, json, svg, endNs: m.nowNs };
}

/** Runs `m` to `endNs` (or until its job ends), recording each window; returns what they wrote. */
export function runWindows(m: Machine, windows: TraceWindow[], endNs: number): WindowResult[] {
  const runner = new WindowRunner(m, windows);
  while (m.nowNs < endNs) {
    const stop = m.runUntil(runner.nextStop(endNs));
    runner.update();
    if (stop === RunStop.JobFinished) break;
  }
  return runner.finish();
}
