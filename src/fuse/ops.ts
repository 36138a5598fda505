import { ERRNO, FsError } from '../debugfs/errors';
import { REFUSED } from '../debugfs/fs';
import type { DebugFs, RefusedOp, StatInfo } from '../debugfs/fs';
import { FOPEN_NONSEEKABLE } from './binding';

/** Where the adapter reports unexpected exceptions (op, path, error). */
export type OpLogger = (line: string) => void;
type Cb = (code: number, ...values: unknown[]) => void;
type Handler = (...args: any[]) => void;

/**
 * Runs one operation and answers its callback exactly once, always with a number first:
 * the operation's own answer, `-errno` for an FsError, `-EIO` (and a log line) for anything else.
 * fuse-native leaves the caller hung in D state if the first argument is not a number.
 */
export function guard(
  op: string,
  path: string,
  cb: Cb,
  log: OpLogger,
  body: () => unknown[] | Promise<unknown[]>,
): void {
  const failed = (e: unknown): unknown[] => {
    if (e instanceof FsError) return [-e.errno];
    log(
      `pvlockfs: ${op} ${path}: unexpected ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
    );
    return [-ERRNO.EIO];
  };
  let answer: unknown[] | Promise<unknown[]>;
  try {
    answer = body();
  } catch (e) {
    answer = failed(e);
  }
  // An operation that completes later (a step of `advance_ns`) is answered when it settles.
  if (answer instanceof Promise)
    answer.then(
      (a) => cb(...(a as [number, ...unknown[]])),
      (e: unknown) => cb(...(failed(e) as [number, ...unknown[]])),
    );
  else cb(...(answer as [number, ...unknown[]]));
}

function toFuseStat(s: StatInfo): Record<string, number> {
  return {
    ino: s.ino,
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    nlink: s.nlink,
    blksize: s.blksize,
    blocks: s.blocks,
    atime: s.atimeMs,
    mtime: s.mtimeMs,
    ctime: s.ctimeMs,
  };
}

/** What `statfs` answers: debugfs's sizes (4 KiB blocks, none used, 255-byte names). */
const STATFS = {
  bsize: 4096,
  frsize: 4096,
  blocks: 0,
  bfree: 0,
  bavail: 0,
  files: 0,
  ffree: 0,
  favail: 0,
  fsid: 0,
  flag: 0,
  namemax: 255,
};

/**
 * The fuse-native operation table over a DebugFs. Translation only: paths, flags, stats and
 * errors; every decision about behaviour lives in src/debugfs.
 */
export function makeOps(fs: DebugFs, log: OpLogger): Record<string, Handler> {
  return {
    ...treeOps(fs, log),
    ...fileOps(fs, log),
    ...attributeOps(fs, log),
    ...refusedOps(fs, log),
  };
}

/** Looking the tree up: stat, access, statfs, directories. */
function treeOps(fs: DebugFs, log: OpLogger): Record<string, Handler> {
  return {
    init: (cb: Cb) => cb(0),
    getattr: (path: string, cb: Cb) =>
      guard('getattr', path, cb, log, () => [0, toFuseStat(fs.getattr(path))]),
    fgetattr: (path: string, _fd: number, cb: Cb) =>
      guard('fgetattr', path, cb, log, () => [0, toFuseStat(fs.getattr(path))]),
    access: succeeds('access', log, (path) => fs.getattr(path)),
    statfs: (path: string, cb: Cb) => guard('statfs', path, cb, log, () => [0, STATFS]),
    // Each name with a stat whose type bits the binding turns into the entry's d_type.
    readdir: (path: string, cb: Cb) =>
      guard('readdir', path, cb, log, () => {
        const entries = fs.entries(path);
        return [0, entries.map((e) => e[0]), entries.map((e) => ({ mode: e[1], ino: e[2] }))];
      }),
    opendir: (path: string, flags: number, cb: Cb) =>
      guard('opendir', path, cb, log, () => {
        fs.opendir(path, flags);
        return [0];
      }),
    releasedir: (_path: string, _fd: number, cb: Cb) => cb(0),
    readlink: (path: string, cb: Cb) => guard('readlink', path, cb, log, () => [-ERRNO.EINVAL]),
  };
}

/** Open files: open, read, write, release. */
function fileOps(fs: DebugFs, log: OpLogger): Record<string, Handler> {
  return {
    // The third value is for a binding that takes open flags (see src/fuse/binding.ts).
    open: (path: string, flags: number, cb: Cb) =>
      guard('open', path, cb, log, () => {
        const fh = fs.open(path, flags);
        return [0, fh, fs.nonseekable(fh) ? FOPEN_NONSEEKABLE : 0];
      }),
    read: (path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) =>
      guard('read', path, cb, log, () => {
        const data = fs.read(fd, pos, len);
        data.copy(buf, 0, 0, data.length);
        return [data.length];
      }),
    write: (path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) =>
      guard('write', path, cb, log, () => {
        // The data is parsed before this returns, even by a write that completes later.
        const n = fs.write(fd, buf.subarray(0, len), pos);
        return typeof n === 'number' ? [n] : n.then((v) => [v]);
      }),
    release: (path: string, fd: number, cb: Cb) =>
      guard('release', path, cb, log, () => {
        fs.release(fd);
        return [0];
      }),
    fsync: (path: string, _datasync: number, fd: number, cb: Cb) =>
      guard('fsync', path, cb, log, () => fs.fsync(fd)),
    // flush is deliberately absent: writes take effect when they are made, and after the first
    // ENOSYS the kernel stops sending FLUSH at every close (one round trip saved). fsyncdir too:
    // FUSE then answers 0 for directories, as debugfs does.
  };
}

/** What setattr changes (kept in memory, as debugfs does), and the empty xattr list. */
function attributeOps(fs: DebugFs, log: OpLogger): Record<string, Handler> {
  return {
    truncate: succeeds('truncate', log, (path) => fs.truncate(path)),
    ftruncate: (path: string, _fd: number, _size: number, cb: Cb) =>
      guard('ftruncate', path, cb, log, () => {
        fs.truncate(path);
        return [0];
      }),
    chmod: succeeds('chmod', log, (path, mode: number) => fs.chmod(path, mode)),
    chown: succeeds('chown', log, (path, uid: number, gid: number) => fs.chown(path, uid, gid)),
    // fuse-native 2.2.6 passes the access time as both arguments; the files' times follow it.
    utimens: succeeds('utimens', log, (path, atime: number, mtime: number) =>
      fs.utimens(path, atime, mtime),
    ),
    listxattr: (path: string, cb: Cb) =>
      guard('listxattr', path, cb, log, () => {
        fs.getattr(path);
        return [0, []];
      }),
  };
}

/** The operations debugfs does not have (what the kernel answers: `REFUSED`). */
function refusedOps(fs: DebugFs, log: OpLogger): Record<string, Handler> {
  const refuse =
    (op: RefusedOp) =>
    (path: string, ...rest: unknown[]) => {
      const cb = rest[rest.length - 1] as Cb;
      guard(op, path, cb, log, () => fs.refuse(op, path));
    };
  const ops: Record<string, Handler> = {};
  for (const op of Object.keys(REFUSED) as RefusedOp[]) ops[op] = refuse(op);
  // symlink's path is its second argument (the first is the target).
  ops.symlink = (_target: string, path: string, cb: Cb) =>
    guard('symlink', path, cb, log, () => fs.refuse('symlink', path));
  return ops;
}

/** An operation that answers 0 once `fn` returns (or the errno it throws). */
function succeeds(op: string, log: OpLogger, fn: (path: string, ...a: any[]) => void): Handler {
  return (path: string, ...rest: unknown[]) => {
    const cb = rest[rest.length - 1] as Cb;
    guard(op, path, cb, log, () => {
      fn(path, ...rest.slice(0, -1));
      return [0];
    });
  };
}

/**
 * The same table, telling `onOperation` of each operation before it is answered (the live driver
 * then leaves the main thread free a moment longer for the operations that follow).
 */
export function withActivity(
  ops: Record<string, Handler>,
  onOperation: () => void,
): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const [name, h] of Object.entries(ops))
    out[name] = (...args: unknown[]) => {
      onOperation();
      h(...args);
    };
  return out;
}
