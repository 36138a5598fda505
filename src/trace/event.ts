/**
 * One timeline event, in the Trace Event Format's terms (phases `B`/`E` spans, `b`/`e` async
 * spans, `i` instants, `C` counters, `M` metadata) but with the time in simulated nanoseconds;
 * the JSON writer turns it into microseconds.
 */
export interface TraceEvent {
  ph: 'B' | 'E' | 'b' | 'e' | 'i' | 'C' | 'M';
  name: string;
  /** Simulated time, ns (0 for metadata). */
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  /** Async spans: the hold's number. */
  id?: number;
  /** Instants: scope (`t` its track, `g` the whole trace). */
  s?: 't' | 'g';
  args?: Record<string, string | number | boolean>;
}

/** Where a recorder's events go. */
export interface TraceSink {
  /** Takes one event; events arrive in time order. */
  event(e: TraceEvent): void;
  /** True once the sink has reached its limit: the recorder closes what is open and stops. */
  readonly full: boolean;
}

/** The process ids of the timeline: the host's pCPUs, the guest's vCPUs. */
export const HOST_PID = 1;
export const GUEST_PID = 2;
