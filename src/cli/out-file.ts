import {
  closeSync,
  linkSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { errnoOf } from './errors';
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
    // Only a regular file (or a symlink, which is replaced, never followed) may be replaced: a
    // device, a directory or a FIFO at the name is refused (renaming over /dev/null as root
    // would replace the device).
    let st;
    try {
      st = lstatSync(this.path);
    } catch {
      st = null;
    }
    if (st !== null && !st.isFile() && !st.isSymbolicLink())
      throw new RuntimeError(`${what}: ${this.path} exists and is not a regular file`);
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

  /** Writes `text` to `path` through a temporary file (see the class). */
  static write(path: string, what: string, text: string): string {
    const f = new OutFile(path, what);
    f.write(text);
    return f.commit();
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

  /**
   * Closes the file and moves it into place; returns where. With `keep`, an existing file of that
   * name (or a symlink planted there) is kept and the new one gets the first free name `NAME-2.EXT`,
   * `NAME-3.EXT` … (a hard link never replaces and never follows).
   */
  commit(keep = false): string {
    try {
      closeSync(this.fd);
      this.fd = -1;
      if (!keep) {
        renameSync(this.tmp, this.path);
        return this.path;
      }
      const ext = extname(this.path);
      const stem = this.path.slice(0, this.path.length - ext.length);
      for (let n = 1; n <= 1000; n++) {
        const name = n === 1 ? this.path : `${stem}-${n}${ext}`;
        try {
          linkSync(this.tmp, name);
        } catch (e) {
          if (errnoOf(e) === 'EEXIST') continue;
          throw e;
        }
        unlinkSync(this.tmp);
        return name;
      }
      throw new Error(`no free name beside ${this.path}`);
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
