import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { why } from './dirs';
import { RuntimeError } from './errors';

/**
 * A file written through a unique temporary name beside it (created with O_EXCL, so a planted
 * file or symlink is never opened or followed) and renamed into place when complete: a reader
 * never sees half a file, and a failed run leaves the previous file as it was.
 */
export class OutFile {
  private fd: number;
  private readonly tmp: string;
  readonly path: string;

  /** Creates the temporary file; `what` names the option in error messages. */
  constructor(
    path: string,
    private readonly what: string,
  ) {
    this.path = resolve(path);
    this.tmp = join(
      dirname(this.path),
      `.${basename(this.path)}.${randomBytes(6).toString('hex')}.tmp`,
    );
    try {
      this.fd = openSync(this.tmp, 'wx', 0o644);
    } catch (e) {
      throw new RuntimeError(`${what}: cannot write there (${why(e)})`);
    }
  }

  /** Appends text (synchronously, all of it). */
  write(s: string): void {
    try {
      writeSync(this.fd, s);
    } catch (e) {
      this.abort();
      throw new RuntimeError(`${this.what}: writing failed (${why(e)})`);
    }
  }

  /** Closes the file and moves it into place. */
  commit(): void {
    try {
      closeSync(this.fd);
      this.fd = -1;
      renameSync(this.tmp, this.path);
    } catch (e) {
      this.abort();
      throw new RuntimeError(`${this.what}: writing failed (${why(e)})`);
    }
  }

  /** Closes and removes the temporary file (nothing is left behind). */
  abort(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed: nothing to do.
      }
      this.fd = -1;
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      // Gone already.
    }
  }
}
