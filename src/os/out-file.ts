import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants as fsc,
  fstatSync,
  linkSync,
  lstatSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { inSystemTree, openPinnedDir, PinnedDir } from './dir';
import { errnoOf, OsError } from './errors';
import { shownPath } from './shown';
import { stderr, stdout } from './stdio';

/** Where an output file's bytes go. */
interface Sink {
  write(s: string): void;
  /** Makes the output final; returns where it is, for messages. */
  commit(keep: boolean): string;
  /** Gives up: nothing half-written is left behind. */
  abort(): void;
}

/** The names that mean one of this process's own descriptors, and which. */
function descriptorOf(path: string): number | null {
  if (path === '-' || path === '/dev/stdout') return 1;
  if (path === '/dev/stderr') return 2;
  const m = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d{1,7})$/.exec(path);
  return m ? Number(m[1]) : null;
}

/** Writes to a descriptor this process already holds (standard output, `/dev/fd/63`). */
function descriptorSink(fd: number, path: string): Sink {
  if (fd === 1 || fd === 2) {
    const s = fd === 1 ? stdout() : stderr();
    return { write: (t) => s.write(t), commit: () => path, abort: () => undefined };
  }
  try {
    fstatSync(fd);
  } catch {
    throw new OsError('EBADF', `${path} is not an open descriptor of this process`);
  }
  return {
    write: (t) => void writeAll(fd, t),
    commit: () => path,
    abort: () => undefined,
  };
}

function writeAll(fd: number, s: string): void {
  const b = Buffer.from(s);
  for (let off = 0; off < b.length;) off += writeSync(fd, b, off, b.length - off);
}

/** Writes through to a character device named directly (`/dev/null`, a terminal). */
function deviceSink(dir: PinnedDir, name: string, path: string): Sink {
  const fd = openSync(dir.at(name), fsc.O_WRONLY | fsc.O_NOFOLLOW | fsc.O_NOCTTY);
  const st = fstatSync(fd);
  if (!st.isCharacterDevice()) {
    closeSync(fd);
    throw new OsError('EAGAIN', `${shownPath(path)} changed while it was being opened`);
  }
  let open = true;
  const close = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    write: (t) => writeAll(fd, t),
    commit: () => (close(), path),
    abort: close,
  };
}

/** How many numbered names (`NAME-2.EXT` …) are tried before a random one. */
const NUMBERED_NAMES = 20;

/**
 * A regular file written through a temporary name in the same (pinned) directory, created with
 * O_EXCL | O_NOFOLLOW so nothing planted is opened or followed, and renamed into place when
 * complete: a reader never sees half a file, a failed run leaves the previous file as it was.
 */
function replacingSink(dir: PinnedDir, name: string, path: string): Sink {
  const tmp = tempName(name);
  let fd = openSync(dir.at(tmp), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644);
  const closeFd = (): void => {
    if (fd >= 0) closeSync(fd);
    fd = -1;
  };
  const removeTmp = (): void => {
    closeFd();
    try {
      unlinkSync(dir.at(tmp));
    } catch {
      // Gone already.
    }
  };
  return {
    write: (t) => writeAll(fd, t),
    commit(keep) {
      closeFd();
      if (!keep) {
        renameSync(dir.at(tmp), dir.at(name));
        return path;
      }
      const ext = extname(name);
      const stem = name.slice(0, name.length - ext.length);
      for (let n = 1; n <= NUMBERED_NAMES + 1; n++) {
        // After the numbered names, a random one: names planted in advance cannot lose the file.
        const suffix =
          n === 1 ? '' : n <= NUMBERED_NAMES ? `-${n}` : `-${randomBytes(6).toString('hex')}`;
        const target = `${stem}${suffix}${ext}`;
        try {
          linkSync(dir.at(tmp), dir.at(target));
        } catch (e) {
          if (errnoOf(e) === 'EEXIST' && n <= NUMBERED_NAMES) continue;
          throw e;
        }
        unlinkSync(dir.at(tmp));
        return `${dir.path === '/' ? '' : dir.path}/${target}`;
      }
      throw new OsError('EEXIST', `no free name beside ${shownPath(path)}`);
    },
    abort: removeTmp,
  };
}

/** The temporary name of `name`: hidden, with the writer's pid (see `removeStaleTemps`). */
function tempName(name: string): string {
  return `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

const TEMP_RE = /^\..+\.(\d{1,10})\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes the temporary files that writers killed before finishing (kill -9 mid-recording)
 * left in `dir`: hidden `.NAME.PID.RANDOM.tmp` files that belong to this user and whose writer
 * process no longer exists. Returns how many were removed.
 */
export function removeStaleTemps(dir: PinnedDir): number {
  const euid = typeof process.geteuid === 'function' ? process.geteuid() : 0;
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir.self);
  } catch {
    return 0;
  }
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (!m || processAlive(Number(m[1]))) continue;
    try {
      const st = lstatSync(dir.at(n));
      if (!st.isFile() || st.uid !== euid) continue;
      unlinkSync(dir.at(n));
      removed += 1;
    } catch {
      // Gone, or not ours to remove.
    }
  }
  return removed;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoOf(e) === 'EPERM';
  }
}

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
   * (`--trace PATH: …`).
   */
  static open(path: string, flag: string): OutFile {
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
      return OutFile.inDir(dir, basename(abs), label, () => dir.close());
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
      return new OutFile(replacingSink(dir, name, path), path, onClose);
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
