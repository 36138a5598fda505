import type { Machine } from '../sim/machine';
import type { SimTracer } from '../sim/trace';
import { JsonTraceWriter } from '../trace/json';
import { Recorder } from '../trace/recorder';
import { TracerTee } from '../trace/tee';
import { Timeline } from '../trace/timeline';
import { timelineSvg } from '../render/timeline-svg';
import { durationNs, formatNs, parseDurationNs } from './duration';
import { UsageError } from './errors';
import { OutFile } from './out-file';

/** The longest window a trace may cover (simulated time): the size limit bounds the file too. */
export const TRACE_FOR_MAX_NS = 60e9;
/** The longest window an SVG may draw: beyond this its spans are thinner than a pixel. */
export const SVG_FOR_MAX_NS = 1e9;
/** Default size limit of a JSON trace, MB (10^6 bytes). */
export const TRACE_MAX_MB = 1024;

/** What `run` and `experiment` record. */
export interface TraceRequest {
  /** JSON trace file, or null. */
  file: string | null;
  /** SVG timeline file, or null. */
  svg: string | null;
  fromNs: number;
  forNs: number;
  svgForNs: number;
  maxBytes: number;
}

/** The defaults: the first 100 ms in JSON, the first 20 ms in the SVG, a 1024 MB limit. */
export function defaultTrace(): TraceRequest {
  return {
    file: null,
    svg: null,
    fromNs: 0,
    forNs: 100e6,
    svgForNs: 20e6,
    maxBytes: TRACE_MAX_MB * 1e6,
  };
}

/** `--trace-from`: a duration, or 0. */
export function parseFrom(flag: string, text: string): number {
  return durationNs(text.trim()) === 0 || text.trim() === '0' ? 0 : parseDurationNs(flag, text);
}

/** A duration no longer than `maxNs`. */
export function parseBounded(flag: string, text: string, maxNs: number): number {
  const ns = parseDurationNs(flag, text);
  if (ns > maxNs)
    throw new UsageError(`${flag}: at most ${formatNs(maxNs)} of simulated time (got ${text})`);
  return ns;
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

/** The JSON trace of one window, streamed into `path` (through a temporary file). */
export function jsonWindow(
  m: Machine,
  path: string,
  fromNs: number,
  toNs: number,
  maxBytes: number,
  meta: Record<string, unknown>,
  keep = false,
): TraceWindow {
  let out: OutFile | null = null;
  let writer: JsonTraceWriter | null = null;
  let rec: Recorder | null = null;
  return {
    fromNs,
    toNs,
    tracer: null,
    get done() {
      return rec !== null && rec.done;
    },
    knob(name, value) {
      rec?.knob(name, value);
    },
    begin() {
      out = new OutFile(path, `--trace ${path}`);
      const file = out;
      writer = new JsonTraceWriter((s) => file.write(s), maxBytes);
      rec = new Recorder(m, writer);
      this.tracer = rec;
      rec.open();
    },
    end() {
      const r = rec as Recorder;
      const w = writer as JsonTraceWriter;
      const truncated = r.done && r.endNs < toNs;
      r.close();
      const marks = r.markCounts();
      w.finish({
        ...meta,
        window_from_ns: fromNs,
        window_to_ns: r.endNs,
        window_requested_to_ns: toNs,
        truncated,
        size_limit_bytes: maxBytes,
        marks,
        time: 'ts is simulated time since the guest started, in µs',
      });
      const file = (out as OutFile).commit(keep);
      return {
        file,
        fromNs,
        toNs: r.endNs,
        bytes: w.bytes,
        events: w.events,
        truncated,
        marks,
      };
    },
  };
}

/** The SVG timeline of one window (kept in memory, drawn when it ends). */
export function svgWindow(
  m: Machine,
  path: string,
  fromNs: number,
  toNs: number,
  title: string,
): TraceWindow {
  const tl = new Timeline();
  const rec = new Recorder(m, tl);
  return {
    fromNs,
    toNs,
    tracer: null,
    get done() {
      return rec.done;
    },
    knob(name, value) {
      rec.knob(name, value);
    },
    begin() {
      this.tracer = rec;
      rec.open();
    },
    end() {
      const truncated = rec.done && rec.endNs < toNs;
      rec.close();
      const svg = timelineSvg(tl, fromNs, rec.endNs, title);
      const out = new OutFile(path, `SVG ${path}`);
      out.write(svg);
      out.commit();
      return {
        file: out.path,
        fromNs,
        toNs: rec.endNs,
        bytes: Buffer.byteLength(svg),
        events: tl.count,
        truncated,
        marks: rec.markCounts(),
      };
    },
  };
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

  /** Whether a window is open or waiting. */
  get busy(): boolean {
    return this.open.length > 0 || this.pending.length > 0;
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
 * without a trace), and warns when the size limit cut it short.
 */
export function reportTrace(r: WindowResult): void {
  const what = `${r.file}: simulated ${r.fromNs}–${r.toNs} ns, ${r.events} events, ${r.bytes} bytes`;
  process.stderr.write(`pvlockfs: wrote ${what}\n`);
  if (r.truncated)
    process.stderr.write(
      `pvlockfs: ${r.file} reached its size limit at simulated ${r.toNs} ns; it holds the window up to there (raise the limit with --trace-max-mb)\n`,
    );
}
