import { lstatSync, statSync, Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { inSystemTree, openPinnedDir, PinnedDir } from './dir';
import { errnoOf, OsError } from './errors';
import { shownPath } from './shown';
import {
  descriptorOf,
  descriptorSink,
  deviceSink,
  liveSink,
  replacingSink,
  Sink,
} from './out-sinks';

export { removeStaleTemps } from './out-sinks';

/** What kind of thing an existing name is, for a refusal. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * An output file, by the rules root needs (`what` names the option in messages):
 * - `-`, `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and `/proc/self/fd/N` write to that descriptor
 *   of this process: nothing is opened, created or replaced.
 * - The directory is opened once (`openPinnedDir`: symlinks other users can change are not
 *   followed) and everything after happens relative to it.
 * - A new name, a regular file, or a symlink whose target is a regular file (or nothing) is
 *   replaced atomically; the symlink itself is replaced, its target never touched.
 * - A character device named directly (`/dev/null`) is written through.
 * - Anything else — a directory, a block device, a FIFO, a socket, a symlink to one of them or to
 *   a device — is refused, and no file is ever created in or replaced under /dev, /proc or /sys.
 */
export class OutFile {
  private done = false;

  private constructor(
    private readonly sink: Sink,
    /** Where the output goes (as given, or in its pinned directory). */
    readonly path: string,
    private readonly onClose: () => void,
  ) {}

  /**
   * Opens `path` for writing by the rules above; `flag` names the option in messages
   * (`--trace PATH: …`). `live`: a regular file is in place from the start and grows with each
   * write (a log), instead of appearing whole at `commit`.
   */
  static open(path: string, flag: string, live = false): OutFile {
    const fd = descriptorOf(path);
    if (fd !== null) return new OutFile(descriptorSink(fd, path), path, () => undefined);
    const label = `${flag} ${shownPath(path)}`;
    const abs = resolve(path);
    let dir: PinnedDir;
    try {
      dir = openPinnedDir(dirname(abs));
    } catch (e) {
      const code = errnoOf(e) || 'EIO';
      if (code === 'EPERM' || code === 'ENOTDIR')
        throw new OsError(code, `${label}: ${(e as Error).message}`);
      throw new OsError(code, `${label}: cannot write there (${code})`);
    }
    try {
      return OutFile.inDir(dir, basename(abs), label, () => dir.close(), live);
    } catch (e) {
      dir.close();
      throw e;
    }
  }

  /** Opens `name` in the pinned directory `dir` by the rules above; `label` starts every message. */
  static inDir(
    dir: PinnedDir,
    name: string,
    label: string,
    onClose = (): void => undefined,
    live = false,
  ): OutFile {
    const path = `${dir.path === '/' ? '' : dir.path}/${name}`;
    const shown = shownPath(path);
    const refuse = (reason: string): OsError =>
      new OsError('EPERM', `${label}: ${shown} ${reason}`);
    let st: Stats | null;
    try {
      st = lstatSync(dir.at(name));
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT')
        throw new OsError(
          errnoOf(e) || 'EIO',
          `${label}: cannot write there (${errnoOf(e) || 'EIO'})`,
        );
      st = null;
    }
    try {
      if (st !== null && st.isCharacterDevice())
        return new OutFile(deviceSink(dir, name, path), path, onClose);
      if (inSystemTree(dir.path))
        throw refuse(
          'is under /dev, /proc or /sys, where pvlockfs never creates or replaces a file (to write through, name a descriptor such as /dev/stdout or - , or a character device)',
        );
      if (st !== null && st.isSymbolicLink()) {
        let target: Stats | null = null;
        try {
          target = statSync(dir.at(name));
        } catch {
          target = null;
        }
        if (target !== null && !target.isFile())
          throw refuse(
            `is a symlink to ${kindOf(target).replace(/^not /, 'something not ')}: it is not replaced (give the target itself)`,
          );
      } else if (st !== null && !st.isFile()) throw refuse(`exists and is ${kindOf(st)}`);
      const sink = live ? liveSink(dir, name, path) : replacingSink(dir, name, path);
      return new OutFile(sink, path, onClose);
    } catch (e) {
      if (e instanceof OsError) throw e;
      const code = errnoOf(e) || 'EIO';
      throw new OsError(code, `${label}: cannot write there (${code})`);
    }
  }

  /** Writes `text` to `path` (see the class); returns where it went. */
  static write(path: string, what: string, text: string): string {
    const f = OutFile.open(path, what);
    f.write(text);
    return f.commit();
  }

  /** Appends text (synchronously, all of it); on failure nothing is left behind and it throws. */
  write(s: string): void {
    try {
      this.sink.write(s);
    } catch (e) {
      this.abort();
      throw new OsError(
        errnoOf(e) || 'EIO',
        `writing ${shownPath(this.path)} failed (${errnoOf(e) || (e as Error).message})`,
      );
    }
  }

  /**
   * Makes the file final and returns where it is. With `keep`, an existing file of that name is
   * kept and the new one takes the first free name `NAME-2.EXT` … (then a random one).
   */
  commit(keep = false): string {
    try {
      return this.sink.commit(keep);
    } catch (e) {
      this.sink.abort();
      throw new OsError(
        errnoOf(e) || 'EIO',
        `writing ${shownPath(this.path)} failed (${errnoOf(e) || (e as Error).message})`,
      );
    } finally {
      this.close();
    }
  }

  /** Gives up: the temporary file is removed, nothing is left behind (idempotent). */
  abort(): void {
    this.sink.abort();
    this.close();
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    this.onClose();
  }
}
