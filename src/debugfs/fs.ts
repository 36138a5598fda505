import { ErrnoName, FsError } from './errors';
import { OpenFile, openFile, readFile, writeFile } from './file';
import { DirNode, Node, lookup, subdirCount } from './nodes';
import type { Abi } from './parse';

/** What `stat` shows for a node. */
export interface StatInfo {
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  blocks: number;
  blksize: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** File type bits. */
export const S_IFDIR = 0o040000;
/** File type bits. */
export const S_IFREG = 0o100000;
/** debugfs's st_blksize: the page size. */
export const PAGE_SIZE = 4096;

/**
 * Operations debugfs does not have, and what the kernel answers root for each (VFS checks the
 * inode operation and fails when it is missing): no `->create` → EACCES (vfs_create); no
 * `->mkdir`, `->mknod`, `->unlink`, `->rmdir`, `->rename`, `->link`, `->symlink` → EPERM; no xattr
 * handlers → EOPNOTSUPP. `listxattr` succeeds with an empty list.
 */
export const REFUSED = {
  create: 'EACCES',
  mknod: 'EPERM',
  mkdir: 'EPERM',
  unlink: 'EPERM',
  rmdir: 'EPERM',
  rename: 'EPERM',
  link: 'EPERM',
  symlink: 'EPERM',
  setxattr: 'EOPNOTSUPP',
  getxattr: 'EOPNOTSUPP',
  removexattr: 'EOPNOTSUPP',
} as const satisfies Record<string, ErrnoName>;

/** An operation in `REFUSED`. */
export type RefusedOp = keyof typeof REFUSED;

/**
 * The most files the mount keeps open at once, and the most text they may hold captured between
 * them. When either is reached, the file used least recently is closed to make room: an open
 * never fails, so a user who opens files in a loop cannot starve anyone's `cat` (which opens,
 * reads and closes at once); a file closed that way answers its next read with EIO.
 */
export const MAX_HANDLES = 1 << 16;
/** See `MAX_HANDLES`. */
export const MAX_CAPTURED_BYTES = 64 << 20;

/**
 * The mounted tree as path operations, each returning a value or throwing FsError. Pure and
 * synchronous; `clockMs` supplies "now" for the timestamps that setattr changes.
 */
export class DebugFs {
  /** Open files, least recently used first (a use moves a handle to the end). */
  private readonly handles = new Map<number, OpenFile>();
  private nextFh = 1;
  /** Whether handle numbers have wrapped (every number may then have been handed out). */
  private wrapped = false;
  /** Bytes of text the open files hold captured. */
  private capturedBytes = 0;
  /** Files closed to make room (see `MAX_HANDLES`). */
  evicted = 0;
  /**
   * Told of every write that took effect: the file's name and, for a number, its new value
   * (a timeline marks knob writes with it). Null: nobody listens.
   */
  onWritten: ((name: string, value: bigint | null) => void) | null = null;

  constructor(
    readonly root: DirNode,
    readonly abi: Abi,
    private readonly clockMs: () => number,
    /** The most files open at once, and the most text they hold captured (see `MAX_HANDLES`). */
    private readonly limits = { handles: MAX_HANDLES, capturedBytes: MAX_CAPTURED_BYTES },
  ) {}

  /** Number of open file descriptions (for leak checks). */
  get openCount(): number {
    return this.handles.size;
  }

  /** Bytes of text the open files hold captured (files sharing one text count it each). */
  get capturedCount(): number {
    return this.capturedBytes;
  }

  /** `stat`: size 0, blocks 0, blksize 4096, nlink 1 for files and 2 + subdirs for directories. */
  getattr(path: string): StatInfo {
    const n = lookup(this.root, path);
    const dir = n.kind === 'dir';
    return {
      ino: n.ino,
      mode: (dir ? S_IFDIR : S_IFREG) | (n.mode & 0o7777),
      nlink: dir ? 2 + subdirCount(n) : 1,
      uid: n.uid,
      gid: n.gid,
      size: 0,
      blocks: 0,
      blksize: PAGE_SIZE,
      atimeMs: n.atimeMs,
      mtimeMs: n.mtimeMs,
      ctimeMs: n.ctimeMs,
    };
  }

  /** Names in a directory (without `.` and `..`). */
  readdir(path: string): string[] {
    return [...this.dir(path).children.keys()];
  }

  /**
   * A directory's entries with their types, `.` and `..` first (what `getdents64` gives: the
   * kernel's dcache_readdir fills d_type from each inode's mode).
   */
  entries(path: string): Array<[name: string, mode: number, ino: number]> {
    const dir = this.dir(path);
    const cut = path.lastIndexOf('/');
    // The root's `..` is outside the mount: the root itself stands for it, as FUSE's own does.
    const parent =
      cut <= 0 ? (path === '/' || path === '' ? dir : this.root) : this.dir(path.slice(0, cut));
    const out: Array<[string, number, number]> = [
      ['.', S_IFDIR, dir.ino],
      ['..', S_IFDIR, parent.ino],
    ];
    for (const [name, n] of dir.children)
      out.push([name, n.kind === 'dir' ? S_IFDIR : S_IFREG, n.ino]);
    return out;
  }

  /** Opens a directory: open(2)'s checks (see `checkOpenFlags`). */
  opendir(path: string, flags = 0): void {
    this.dir(path);
    checkOpenFlags(flags, path);
  }

  private dir(path: string): DirNode {
    const n = lookup(this.root, path);
    if (n.kind !== 'dir') throw new FsError('ENOTDIR', path);
    return n;
  }

  /** Opens a file and returns its handle number (closing the least recently used if full). */
  open(path: string, flags = 0): number {
    const node = lookup(this.root, path);
    const f = openFile(node, this.abi);
    checkOpenFlags(flags, path);
    f.append = (flags & O_APPEND) !== 0;
    while (this.handles.size >= this.limits.handles) this.evictOldest();
    while (this.handles.has(this.nextFh)) this.nextFh = this.after(this.nextFh);
    const fh = this.nextFh;
    this.handles.set(fh, f);
    this.nextFh = this.after(fh);
    this.captured(f, 0);
    return fh;
  }

  /**
   * Whether an open file is non-seekable, as every debugfs attribute is (`nonseekable_open`):
   * lseek, pread and pwrite on it fail with ESPIPE. Only pvlockfs's own event files seek.
   */
  nonseekable(fh: number): boolean {
    // Asked right after `open`: the handle is the most recent already, nothing to move.
    const f = this.handles.get(fh);
    if (f === undefined) throw new FsError('EBADF', `handle ${fh}`);
    return f.node.kind !== 'event';
  }

  /**
   * fsync and fdatasync of an open file: debugfs's file operations have no `fsync`, so the
   * kernel answers EINVAL (directories answer 0, which FUSE gives on its own).
   */
  fsync(fh: number): never {
    this.handle(fh);
    throw new FsError('EINVAL', 'fsync');
  }

  /** Reads from an open file (see `readFile`). */
  read(fh: number, offset: number, len: number): Buffer {
    const f = this.handle(fh);
    const before = capturedLength(f);
    const data = readFile(f, offset, len);
    this.captured(f, before);
    return data;
  }

  /**
   * Writes to an open file (see `writeFile`); a write that completes later (`advance_ns`) returns
   * a promise of its length.
   */
  write(fh: number, data: Uint8Array, offset?: number): number | Promise<number> {
    const f = this.handle(fh);
    const n = writeFile(f, data, offset);
    if (typeof n === 'number') {
      this.written(f.node);
      return n;
    }
    return n.then((len) => (this.written(f.node), len));
  }

  /** Tells `onWritten` of a write that took effect. */
  private written(node: Node): void {
    // A write-only file's value reads as nothing: only a readable number is reported.
    if (this.onWritten !== null)
      this.onWritten(node.name, node.kind === 'attr' && node.mode & 0o444 ? node.get() : null);
  }

  /** Closes a handle; unknown handles are ignored (release cannot fail). */
  release(fh: number): void {
    const f = this.handles.get(fh);
    if (f === undefined) return;
    this.capturedBytes -= capturedLength(f);
    this.handles.delete(fh);
  }

  /** Accounts for the text `f` holds now (it held `before` bytes); makes room if needed. */
  private captured(f: OpenFile, before: number): void {
    this.capturedBytes += capturedLength(f) - before;
    while (this.capturedBytes > this.limits.capturedBytes && this.handles.size > 1)
      this.evictOldest();
  }

  /** Closes the least recently used file. */
  private evictOldest(): void {
    const oldest = this.handles.keys().next();
    if (oldest.done === true) return;
    this.release(oldest.value);
    this.evicted += 1;
  }

  /** The handle number after `fh` (numbers wrap at 2^31 − 1). */
  private after(fh: number): number {
    if (fh < 0x7fffffff) return fh + 1;
    this.wrapped = true;
    return 1;
  }

  /**
   * Truncation (the shell's `>` opens with O_TRUNC): the size stays 0; mtime and ctime become
   * now, as `do_truncate(…, ATTR_MTIME|ATTR_CTIME)` does on debugfs.
   */
  truncate(path: string): void {
    const n = lookup(this.root, path);
    if (n.kind === 'dir') throw new FsError('EISDIR', path);
    const now = this.clockMs();
    n.mtimeMs = now;
    n.ctimeMs = now;
  }

  /** chmod: debugfs keeps the new mode in memory (simple_setattr). */
  chmod(path: string, mode: number): void {
    const n = lookup(this.root, path);
    n.mode = mode & 0o7777;
    n.ctimeMs = this.clockMs();
  }

  /** chown: likewise kept; -1 leaves an id unchanged. */
  chown(path: string, uid: number, gid: number): void {
    const n = lookup(this.root, path);
    if (uid !== -1 && uid !== 0xffffffff) n.uid = uid;
    if (gid !== -1 && gid !== 0xffffffff) n.gid = gid;
    n.ctimeMs = this.clockMs();
  }

  /** utimens (touch): sets atime and mtime; ctime becomes now. */
  utimens(path: string, atimeMs: number, mtimeMs: number): void {
    const n = lookup(this.root, path);
    n.atimeMs = atimeMs;
    n.mtimeMs = mtimeMs;
    n.ctimeMs = this.clockMs();
  }

  /** An operation debugfs lacks: throws what the kernel answers. */
  refuse(op: RefusedOp, path: string): never {
    lookupParent(this.root, path);
    throw new FsError(REFUSED[op], `${op} ${path}`);
  }

  /** The open file `fh`, now the most recently used. */
  private handle(fh: number): OpenFile {
    const f = this.handles.get(fh);
    if (f === undefined) {
      // A number handed out before was closed to make room (the kernel sends no other).
      if (fh > 0 && (fh < this.nextFh || this.wrapped))
        throw new FsError('EIO', `handle ${fh} was closed to make room`);
      throw new FsError('EBADF', `handle ${fh}`);
    }
    this.handles.delete(fh);
    this.handles.set(fh, f);
    return f;
  }
}

/** open(2)'s flags as x86_64 numbers them. */
export const O_APPEND = 0o2000;
/** See `O_APPEND`. */
export const O_DIRECT = 0o40000;

/**
 * What open(2) refuses before the file's own open runs: O_DIRECT on a file whose address space
 * has no direct I/O (every debugfs inode) is EINVAL.
 */
function checkOpenFlags(flags: number, path: string): void {
  if ((flags & O_DIRECT) !== 0) throw new FsError('EINVAL', `O_DIRECT ${path}`);
}

/** Bytes of text an open file holds captured. */
function capturedLength(f: OpenFile): number {
  return f.text === null ? 0 : f.text.length;
}

/** The directory a path's last component would live in (ENOENT/ENOTDIR when it does not exist). */
function lookupParent(root: DirNode, path: string): Node {
  const cut = path.lastIndexOf('/');
  const parent = lookup(root, cut <= 0 ? '/' : path.slice(0, cut));
  if (parent.kind !== 'dir') throw new FsError('ENOTDIR', path);
  return parent;
}
