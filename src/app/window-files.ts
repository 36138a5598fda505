import type { Machine } from '../sim/machine';
import { JsonTraceWriter } from '../trace/json';
import { guestNames, Recorder } from '../trace/recorder';
import { Timeline } from '../trace/timeline';
import { timelineSvg } from '../render/timeline-svg';
import { why } from '../os/errors';
import { OutFile } from '../os/out-file';
import type { TraceWindow, WindowResult } from './windows';

/* The two kinds of window: a JSON trace streamed to its file, an SVG drawn when it ends. */

/** Opens a window's output file when the window begins (a path, or a name in a pinned directory). */
export type OpenOut = () => OutFile;

/** The opener of the output file at `path` (see `OutFile.open`); `what` names it in messages. */
export function outAt(path: string, what: string): OpenOut {
  return () => OutFile.open(path, what);
}

/**
 * The JSON trace of one window, streamed into the file `open` makes when the window begins. A
 * write that fails (a full disk) never reaches the simulation: the writer stops taking events,
 * the recorder ends the window at once, the partial file is removed, and the result says why.
 */
export function jsonWindow(
  m: Machine,
  open: OpenOut,
  fromNs: number,
  toNs: number,
  maxBytes: number,
  meta: Record<string, unknown>,
  keep = false,
): TraceWindow {
  return new JsonFileWindow(m, open, fromNs, toNs, maxBytes, meta, keep);
}

class JsonFileWindow implements TraceWindow {
  tracer: Recorder | null = null;
  private out: OutFile | null = null;
  private writer: JsonTraceWriter | null = null;
  /** Why the file could not be written ('' while it can). */
  private error = '';

  constructor(
    private readonly m: Machine,
    private readonly open: OpenOut,
    readonly fromNs: number,
    readonly toNs: number,
    private readonly maxBytes: number,
    private readonly meta: Record<string, unknown>,
    private readonly keep: boolean,
  ) {}

  get done(): boolean {
    return this.tracer !== null && this.tracer.done;
  }

  knob(name: string, value: bigint | null): void {
    this.tracer?.knob(name, value);
  }

  begin(): void {
    const file = this.open();
    this.out = file;
    const w = new JsonTraceWriter(
      (chunk) => this.put(file, w, chunk),
      this.maxBytes,
      guestNames(this.m),
    );
    this.writer = w;
    this.tracer = new Recorder(this.m, w);
    this.tracer.open();
  }

  /** Hands a chunk to the file; a failure stops the writer (and so the recorder), never throws. */
  private put(file: OutFile, w: JsonTraceWriter, chunk: string): void {
    if (this.error !== '') return;
    try {
      file.write(chunk);
    } catch (e) {
      this.error = why(e);
      w.full = true;
    }
  }

  end(): WindowResult {
    const r = this.tracer as Recorder;
    const w = this.writer as JsonTraceWriter;
    const truncated = r.done && r.endNs < this.toNs && this.error === '';
    r.close();
    const marks = r.markCounts();
    w.finish({
      ...this.meta,
      window_from_ns: this.fromNs,
      window_to_ns: r.endNs,
      window_requested_to_ns: this.toNs,
      truncated,
      size_limit_bytes: this.maxBytes,
      marks,
      time: 'ts is simulated time since the guest started, in µs',
    });
    const file = this.settle();
    const error = this.error;
    const bytes = error === '' ? w.bytes : 0;
    return {
      file,
      fromNs: this.fromNs,
      toNs: r.endNs,
      bytes,
      events: w.events,
      truncated,
      marks,
      error,
    };
  }

  /** Makes the file final, or removes it after a failure; returns where it is (or was to be). */
  private settle(): string {
    const f = this.out as OutFile;
    if (this.error !== '') {
      f.abort();
      return f.path;
    }
    try {
      return f.commit(this.keep);
    } catch (e) {
      this.error = why(e);
      return f.path;
    }
  }
}

/** The SVG timeline of one window (kept in memory, drawn into the file `open` makes when it ends). */
export function svgWindow(
  m: Machine,
  open: OpenOut,
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
      const result = {
        file: '',
        fromNs,
        toNs: rec.endNs,
        bytes: Buffer.byteLength(svg),
        events: tl.count,
        truncated,
        marks: rec.markCounts(),
        error: '',
      };
      try {
        const out = open();
        result.file = out.path;
        out.write(svg);
        result.file = out.commit();
      } catch (e) {
        result.error = why(e);
        result.bytes = 0;
      }
      return result;
    },
  };
}
