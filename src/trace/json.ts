import type { TimelineEvent, TraceSink } from './event';
import { toTef } from './tef';

/** Output is handed on in pieces of about this size. */
const CHUNK_BYTES = 1 << 16;

/** Simulated ns as the format's microseconds (a decimal with up to three places). */
export function micros(ns: number): number {
  return Math.round(ns) / 1000;
}

/**
 * The Trace Event Format JSON that ui.perfetto.dev and chrome://tracing open, written as the events
 * come (`out` gets pieces of about 64 KiB): `{"displayTimeUnit":"ns","traceEvents":[…],
 * "otherData":{…}}`. Past `limitBytes` it reports itself full; the recorder then closes what is
 * open and `finish` still writes a well-formed file.
 */
export class JsonTraceWriter implements TraceSink {
  private buf = '';
  private first = true;
  /** Bytes handed to `out` or waiting in the buffer (the file's size so far). */
  bytes = 0;
  events = 0;
  full = false;

  constructor(
    private readonly out: (chunk: string) => void,
    readonly limitBytes: number,
    /** The guests' names, when there are several (their vCPUs' tasks carry them). */
    private readonly guestNames: readonly string[] = [],
  ) {
    this.put('{"displayTimeUnit":"ns","traceEvents":[\n');
  }

  event(ev: TimelineEvent): void {
    const { ts, ...rest } = toTef(ev, this.guestNames);
    const fields: Record<string, unknown> = { ...rest, ts: micros(ts) };
    if (fields.args === undefined) delete fields.args;
    this.put(`${this.first ? '' : ',\n'}${JSON.stringify(fields)}`);
    this.first = false;
    this.events += 1;
    if (this.bytes >= this.limitBytes) this.full = true;
  }

  /** Ends the event list, writes `otherData` (the run's metadata) and hands on the rest. */
  finish(otherData: Record<string, unknown>): void {
    this.put(`\n],"otherData":${JSON.stringify(otherData)}}\n`);
    this.flush();
  }

  private put(s: string): void {
    this.buf += s;
    this.bytes += Buffer.byteLength(s);
    if (this.buf.length >= CHUNK_BYTES) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    this.out(this.buf);
    this.buf = '';
  }
}
