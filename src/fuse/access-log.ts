import { errnoName } from '../faults/faults';

type Cb = (code: number, ...values: unknown[]) => void;
type Handler = (...args: any[]) => void;

/** Where the access log's lines go, and the clocks and caller it stamps them with. */
export interface AccessLogSink {
  write(line: string): void;
  simNs(): number;
  wallMs(): number;
  /** The caller's pid, read while the operation is being dispatched (0: unknown). */
  callerPid(): number;
}

/**
 * The operation table with a line per answered operation:
 * `SIM_NS WALL_MS PID OP PATH RESULT` — RESULT is the answer (0, a byte count, a handle) or the
 * errno's name. The time is the answer's; the pid is the caller's, taken when the call came.
 */
export function withAccessLog(
  ops: Record<string, Handler>,
  sink: AccessLogSink,
): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const [name, h] of Object.entries(ops)) {
    if (name === 'init') {
      out[name] = h;
      continue;
    }
    out[name] = (...args: unknown[]) => {
      const pid = sink.callerPid();
      // symlink's path is its second argument (the first is the target).
      const path = logged(String(name === 'symlink' ? args[1] : args[0]));
      const cb = args[args.length - 1] as Cb;
      args[args.length - 1] = (code: number, ...rest: unknown[]) => {
        const result = code < 0 ? errnoName(-code) : String(code);
        sink.write(`${sink.simNs()} ${sink.wallMs()} ${pid} ${name} ${path} ${result}\n`);
        cb(code, ...rest);
      };
      h(...args);
    };
  }
  return out;
}

/** A path as the log shows it: as is when plain, otherwise JSON-quoted (a newline cannot forge a line). */
function logged(path: string): string {
  return /^[\x21-\x7e]*$/.test(path) && !/["\\]/.test(path) ? path : JSON.stringify(path);
}
