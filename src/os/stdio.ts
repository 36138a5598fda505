/**
 * Standard output and standard error that never throw and never take the process down.
 *
 * A write to a pipe whose reader went away (`pvlockfs mount X 2>&1 | head -1`, a log shipper that
 * restarted) fails with EPIPE, and one to a full disk with ENOSPC; Node reports either as an
 * `'error'` event, which kills the process when nobody listens. A daemon's diagnostics that cannot
 * be written are dropped (the mount keeps serving); a command's result that cannot be written is
 * reported once, by `stdoutFailure`, so the command can say so in one line and exit 1 (or end
 * quietly with 141 when the reader simply stopped reading, as `yes | head` does).
 */

/** One standard stream as pvlockfs writes to it. */
export interface Stdio {
  /**
   * Writes `s`, or drops it when the stream has failed; never throws. `done` is called once the
   * system took it or it failed (then `failed` says why).
   */
  write(s: string, done?: () => void): void;
  /** The errno name of the first failed write (`EPIPE`, `ENOSPC`, …), or '' while it works. */
  readonly failed: string;
  /** Whether the stream is a terminal. */
  readonly isTTY: boolean;
}

/** The exit status of a command whose reader stopped reading: 128 + SIGPIPE, as a shell reports it. */
export const EXIT_PIPE_CLOSED = 141;

class GuardedStream implements Stdio {
  failed = '';

  constructor(private readonly stream: NodeJS.WriteStream) {
    stream.on('error', (e: NodeJS.ErrnoException) => this.fail(e));
  }

  get isTTY(): boolean {
    return this.stream.isTTY === true;
  }

  write(s: string, done: () => void = () => undefined): void {
    if (this.failed !== '' || this.stream.destroyed) return done();
    try {
      this.stream.write(s, (e) => {
        if (e) this.fail(e as NodeJS.ErrnoException);
        done();
      });
    } catch (e) {
      // A synchronous failure (a file stream on a full disk throws from write on some versions).
      this.fail(e as NodeJS.ErrnoException);
      done();
    }
  }

  /** Resolves once everything written so far has been handed to the system (or has failed). */
  flush(): Promise<void> {
    return new Promise((resolve) => this.write('', resolve));
  }

  private fail(e: NodeJS.ErrnoException): void {
    if (this.failed === '') this.failed = e.code ?? 'EIO';
  }
}

let outStream: GuardedStream | null = null;
let errStream: GuardedStream | null = null;

/** Standard output (guarded from the first call on). */
export function stdout(): Stdio {
  return (outStream ??= new GuardedStream(process.stdout));
}

/** Standard error (guarded from the first call on). */
export function stderr(): Stdio {
  return (errStream ??= new GuardedStream(process.stderr));
}

/** Guards both streams: call once, first thing, in every entry point. */
export function guardStdio(): void {
  stdout();
  stderr();
}

/** Writes one line to standard error (dropped if it cannot be written). */
export function logLine(line: string): void {
  stderr().write(`${line}\n`);
}

/** Writes one line to standard output (dropped if it cannot be written). */
export function sayLine(line: string): void {
  stdout().write(`${line}\n`);
}

/** Resolves once standard output has taken (or failed to take) everything written to it. */
export function flushStdout(): Promise<void> {
  return (outStream ??= new GuardedStream(process.stdout)).flush();
}

/**
 * What became of the command's output: null when everything was written; otherwise the exit
 * status and the line to print on standard error ('' for none): a reader that stopped reading
 * (EPIPE) ends the command quietly with 141, any other failure (ENOSPC on a full disk, EIO) is
 * an error, exit 1.
 */
export function stdoutFailure(): { code: number; message: string } | null {
  const failed = stdout().failed;
  if (failed === '') return null;
  if (failed === 'EPIPE') return { code: EXIT_PIPE_CLOSED, message: '' };
  return { code: 1, message: `pvlockfs: cannot write the output to standard output (${failed})` };
}
