import type { Machine } from '../sim/machine';
import type { SimTracer } from '../sim/trace';
import { TracerTee } from '../trace/tee';
import { logLine } from '../os/stdio';
import { shownPath } from '../os/shown';

export { jsonWindow, outAt, svgWindow } from './window-files';
export type { OpenOut } from './window-files';

/** The longest window a trace may cover (simulated time): the size limit bounds the file too. */
export const TRACE_FOR_MAX_NS = 60e9;
/** The longest window an SVG may draw: beyond this its spans are thinner than a pixel. */
export const SVG_FOR_MAX_NS = 1e9;
/** Default size limit of a JSON trace, MB (10^6 bytes). */
export const TRACE_MAX_MB = 1024;

/** Where timelines start by default (run and experiment): past the start-up, 1 simulated s. */
export const TRACE_FROM_NS = 1e9;

/** What `run` and `experiment` record. */
export interface TraceRequest {
  /** Start at the window with the most holder preemptions (found by a first run), not `fromNs`. */
  busiest: boolean;
  /** JSON trace file, or null. */
  file: string | null;
  /** SVG timeline file, or null. */
  svg: string | null;
  fromNs: number;
  forNs: number;
  svgForNs: number;
  maxBytes: number;
}

/** The defaults: from 1 s, 100 ms in JSON, 20 ms in the SVG, a 1024 MB limit. */
export function defaultTrace(): TraceRequest {
  return {
    busiest: false,
    file: null,
    svg: null,
    fromNs: TRACE_FROM_NS,
    forNs: 100e6,
    svgForNs: 20e6,
    maxBytes: TRACE_MAX_MB * 1e6,
  };
}

/** What one window wrote. */
export interface WindowResult {
  file: string;
  fromNs: number;
  toNs: number;
  bytes: number;
  events: number;
  truncated: boolean;
  marks: Record<string, number>;
  /**
   * Why the file could not be written ('' when it was): the window then ended at the failure,
   * nothing half-written was kept, and the simulation went on untouched.
   */
  error: string;
}

/** A recording over [fromNs, toNs] of simulated time, written to a file when it ends. */
export interface TraceWindow {
  readonly fromNs: number;
  readonly toNs: number;
  /** The tracer to attach while the window is open (made by `begin`). */
  tracer: SimTracer | null;
  begin(): void;
  /** Whether it stopped early (a full sink). */
  readonly done: boolean;
  end(): WindowResult;
  /** A knob was written while the window is open. */
  knob(name: string, value: bigint | null): void;
}

/**
 * Drives `advance(targetNs)` (which runs the machine to that time and returns false when the
 * run is over) in steps that stop at every window's start and end, attaching each window's
 * tracer while it is open. Windows still open when the run ends are ended there.
 */
export class WindowRunner {
  private readonly open: TraceWindow[] = [];
  private readonly pending: TraceWindow[];
  readonly results: WindowResult[] = [];

  constructor(
    private readonly m: Machine,
    windows: readonly TraceWindow[],
  ) {
    this.pending = [...windows].sort((a, b) => a.fromNs - b.fromNs);
    this.update();
  }

  /** The next time the run must stop at (a window's start or end), at most `limitNs`. */
  nextStop(limitNs: number): number {
    let t = limitNs;
    for (const w of this.pending) if (w.fromNs > this.m.nowNs) t = Math.min(t, w.fromNs);
    for (const w of this.open) t = Math.min(t, w.toNs);
    return t;
  }

  /** Opens and closes windows at the current time. */
  update(): void {
    const now = this.m.nowNs;
    let changed = false;
    for (let i = this.open.length - 1; i >= 0; i--) {
      const w = this.open[i];
      if (w.toNs <= now || w.done) {
        this.open.splice(i, 1);
        this.results.push(w.end());
        changed = true;
      }
    }
    while (this.pending.length > 0 && this.pending[0].fromNs <= now) {
      const w = this.pending.shift() as TraceWindow;
      w.begin();
      this.open.push(w);
      changed = true;
    }
    if (changed) this.attach();
  }

  /** Adds a window (one starting now or later). */
  add(w: TraceWindow): void {
    this.pending.push(w);
    this.pending.sort((a, b) => a.fromNs - b.fromNs);
    this.update();
  }

  /** Ends the open windows now (before their end); returns what they wrote. */
  endOpen(): WindowResult[] {
    const ended = this.open.map((w) => w.end());
    this.results.push(...ended);
    this.open.length = 0;
    this.attach();
    return ended;
  }

  /** A knob was written: every open window marks it. */
  knob(name: string, value: bigint | null): void {
    for (const w of this.open) w.knob(name, value);
  }

  /** Ends every window still open (the run is over). */
  finish(): WindowResult[] {
    for (const w of this.open) this.results.push(w.end());
    this.open.length = 0;
    this.pending.length = 0;
    this.m.setTracer(null);
    return this.results;
  }

  private attach(): void {
    const ts = this.open.map((w) => w.tracer as SimTracer);
    this.m.setTracer(ts.length === 0 ? null : ts.length === 1 ? ts[0] : new TracerTee(ts));
  }
}

/**
 * Says on stderr what a trace window wrote (the run's JSON on stdout stays exactly what it is
 * without a trace), warns when the size limit cut it short, and says why a file could not be
 * written. Returns false for a window whose file could not be written.
 */
export function reportTrace(r: WindowResult): boolean {
  if (r.error !== '') {
    logLine(`pvlockfs: ${r.error}; nothing was kept`);
    return false;
  }
  const what = `${r.file === '-' ? 'standard output' : shownPath(r.file)}: simulated ${r.fromNs}–${r.toNs} ns, ${r.marks['holder preempted'] ?? 0} holder preemptions, ${r.events} events, ${r.bytes} bytes`;
  logLine(`pvlockfs: wrote ${what}`);
  if (r.truncated)
    logLine(
      `pvlockfs: ${shownPath(r.file)} reached its size limit at simulated ${r.toNs} ns; it holds the window up to there (raise the limit with --trace-max-mb)`,
    );
  return true;
}
