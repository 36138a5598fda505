import { closeSync, constants as fsc, fstatSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import { readlinkSync, Stats } from 'node:fs';
import { resolve } from 'node:path';
import { errnoOf, OsError } from './errors';
import { shownPath } from './shown';

/** The most symlinks one path may pass through (the kernel's MAXSYMLINKS). */
const MAX_SYMLINKS = 40;
/** The most components one path may have: far more than any real path. */
const MAX_COMPONENTS = 4096;

const O_DIR = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;

/**
 * A directory opened once: everything pvlockfs creates, links, renames or removes in it is named
 * relative to this descriptor (through `/proc/self/fd/N/NAME`, which the kernel resolves from the
 * descriptor as `openat` would), so a directory swapped for a symlink afterwards, or a parent
 * renamed, cannot move where the files go.
 */
export class PinnedDir {
  private closed = false;

  constructor(
    /** The open descriptor (O_RDONLY | O_DIRECTORY). */
    readonly fd: number,
    /** Where the directory was when it was opened (for messages). */
    readonly path: string,
  ) {}

  /** The path naming `name` inside this directory (a single component, never `.` or `..`). */
  at(name: string): string {
    if (name === '' || name === '.' || name === '..' || name.includes('/'))
      throw new OsError('EINVAL', `not a file name: ${shownPath(name)}`);
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  /** The directory itself, as a path that always leads to it (for mount(2), readdir). */
  get self(): string {
    return `/proc/self/fd/${this.fd}`;
  }

  /** Where the directory is now (it may have been renamed since it was opened). */
  now(): string {
    try {
      return readlinkSync(this.self);
    } catch {
      return this.path;
    }
  }

  /** The directory's status now. */
  stat(): Stats {
    return fstatSync(this.fd);
  }

  /** Closes the descriptor (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/**
 * Whether a symlink may be followed: it belongs to root or to this process's user, it has one
 * name (a hard link to someone else's symlink is refused), and the directory holding it cannot be
 * changed by anyone else: owned by root or by us and writable by no one else, or sticky with the
 * symlink owned by the directory's owner or by us (the kernel's fs.protected_symlinks rule).
 * A user who can write a directory on the path could otherwise point root anywhere.
 */
export function symlinkTrusted(link: Stats, dir: Stats, euid: number): boolean {
  const owners = [0, euid];
  if (!owners.includes(link.uid) || link.nlink !== 1) return false;
  const othersWrite = (dir.mode & 0o022) !== 0;
  if (owners.includes(dir.uid) && !othersWrite) return true;
  const sticky = (dir.mode & 0o1000) !== 0;
  return sticky && (link.uid === dir.uid || link.uid === euid);
}

function effectiveUid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : 0;
}

/**
 * Opens the directory at `path` once, walking it one component at a time from `/` (or the
 * working directory) with O_NOFOLLOW: each directory is opened relative to the one before, and a
 * symlink on the way is followed only when `symlinkTrusted` says so. With `create`, missing
 * directories are made (mode 0755). Errors are `OsError`s naming the component at fault.
 */
export function openPinnedDir(path: string, opts: { create?: boolean } = {}): PinnedDir {
  const abs = resolve(path);
  const euid = effectiveUid();
  let fd = openSync('/', O_DIR);
  let where = '/';
  const todo = abs.split('/').filter((c) => c !== '' && c !== '.');
  let links = 0;
  try {
    for (let steps = 0; todo.length > 0; steps++) {
      if (steps > MAX_COMPONENTS) throw new OsError('ENAMETOOLONG', shownPath(abs));
      const name = todo.shift() as string;
      const at = `/proc/self/fd/${fd}/${name}`;
      const shown = where === '/' ? `/${name}` : `${where}/${name}`;
      let st: Stats;
      try {
        st = lstatSync(at);
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT' || !opts.create) throw OsError.from(e, shownPath(shown));
        try {
          mkdirSync(at, 0o755);
        } catch (e2) {
          const code = errnoOf(e2) || 'EIO';
          if (code !== 'EEXIST')
            throw new OsError(code, `cannot create ${shownPath(shown)} (${code})`, true);
        }
        st = lstatSync(at);
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw new OsError('ELOOP', shownPath(abs));
        if (!symlinkTrusted(st, fstatSync(fd), euid))
          throw new OsError(
            'EPERM',
            `${shownPath(shown)} is a symlink that another user (uid ${st.uid}) can change; pvlockfs follows only symlinks owned by root or by you, in directories only they can write`,
          );
        const target = readlinkSync(at);
        const again = lstatSync(at);
        if (again.ino !== st.ino || again.dev !== st.dev)
          throw new OsError('EAGAIN', `${shownPath(shown)} changed while it was being followed`);
        const parts = target.split('/').filter((c) => c !== '' && c !== '.');
        todo.unshift(...parts);
        if (target.startsWith('/')) {
          closeSync(fd);
          fd = openSync('/', O_DIR);
          where = '/';
        }
        continue;
      }
      if (!st.isDirectory())
        throw new OsError('ENOTDIR', `${shownPath(shown)} exists and is not a directory`);
      let next: number;
      try {
        next = openSync(at, O_DIR);
      } catch (e) {
        // ELOOP: it became a symlink between the look and the open.
        throw OsError.from(e, shownPath(shown));
      }
      closeSync(fd);
      fd = next;
      where = readlinkSync(`/proc/self/fd/${fd}`);
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return new PinnedDir(fd, readlinkSync(`/proc/self/fd/${fd}`));
}

/** The parts of the file system pvlockfs never creates or replaces a file in. */
const SYSTEM_TREES = ['/dev', '/proc', '/sys'];

/** Whether `path` (a canonical path) is in /dev, /proc or /sys. */
export function inSystemTree(path: string): boolean {
  return SYSTEM_TREES.some((t) => path === t || path.startsWith(`${t}/`));
}
