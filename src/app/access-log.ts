import type { AccessLogSink } from '../fuse/access-log';
import { loadBinding } from '../fuse/binding';
import { OutFile } from '../os/out-file';
import { why } from '../os/errors';
import type { Machine } from '../sim/machine';
import { UsageError } from './errors';

/** The mount's access log (`--access-log FILE`) and how to end it. */
export interface AccessLog {
  readonly sink: AccessLogSink;
  /** Ends the log (its file is complete). */
  close(): void;
}

/**
 * Opens the access log: a file that grows with each line (root's output-file rules: see
 * `OutFile`; `-` is standard error here, beside the daemon's other lines). A write that fails
 * (a full disk) ends the log with one line on `log`; the mount goes on.
 */
export function openAccessLog(
  path: string,
  machine: Machine,
  log: (line: string) => void,
): AccessLog {
  let file: OutFile | null;
  try {
    file = OutFile.open(path === '-' ? '/dev/stderr' : path, '--access-log', true);
  } catch (e) {
    throw new UsageError(why(e));
  }
  const caller = loadBinding().caller;
  const sink: AccessLogSink = {
    write: (line) => {
      if (file === null) return;
      try {
        file.write(line);
      } catch (e) {
        file = null;
        log(`pvlockfs: the access log ended: ${why(e)}`);
      }
    },
    simNs: () => machine.nowNs,
    wallMs: () => Date.now(),
    callerPid: () => caller[0],
  };
  return {
    sink,
    close: () => {
      const f = file;
      file = null;
      if (f === null) return;
      try {
        f.commit();
      } catch (e) {
        log(`pvlockfs: the access log could not be completed: ${why(e)}`);
      }
    },
  };
}
