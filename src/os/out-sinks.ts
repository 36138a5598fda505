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
  unlinkSync,
  writeSync,
} from 'node:fs';
import { extname } from 'node:path';
import type { PinnedDir } from './dir';
import { errnoOf, OsError } from './errors';
import { shownPath } from './shown';
import { stderr, stdout } from './stdio';

/* Where an output file's bytes go: a descriptor, a device, or a regular file made beside its name. */

/** Where an output file's bytes go. */
export interface Sink {
  write(s: string): void;
  /** Makes the output final; returns where it is, for messages. */
  commit(keep: boolean): string;
  /** Gives up: nothing half-written is left behind. */
  abort(): void;
}

/** The names that mean one of this process's own descriptors, and which. */
export function descriptorOf(path: string): number | null {
  if (path === '-' || path === '/dev/stdout') return 1;
  if (path === '/dev/stderr') return 2;
  const m = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d{1,7})$/.exec(path);
  return m ? Number(m[1]) : null;
}

/** Writes to a descriptor this process already holds (standard output, `/dev/fd/63`). */
export function descriptorSink(fd: number, path: string): Sink {
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
export function deviceSink(dir: PinnedDir, name: string, path: string): Sink {
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
export function replacingSink(dir: PinnedDir, name: string, path: string): Sink {
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

/**
 * A regular file that grows as it is written (a log): made under a temporary name with O_EXCL |
 * O_NOFOLLOW, as `replacingSink` does, but renamed into place at once, so readers can follow it;
 * every write appends.
 */
export function liveSink(dir: PinnedDir, name: string, path: string): Sink {
  const tmp = tempName(name);
  let fd = openSync(dir.at(tmp), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644);
  try {
    renameSync(dir.at(tmp), dir.at(name));
  } catch (e) {
    closeSync(fd);
    unlinkSync(dir.at(tmp));
    throw e;
  }
  const close = (): void => {
    if (fd >= 0) closeSync(fd);
    fd = -1;
  };
  return {
    write: (t) => writeAll(fd, t),
    commit: () => (close(), path),
    abort: close,
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
