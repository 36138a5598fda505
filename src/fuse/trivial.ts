import { loadBinding } from './binding';
import { mountOps, Mounted } from './mount';

/**
 * A trivial fuse-native filesystem serving one constant file, `/histo_total`, with direct_io:
 * the benchmark's measure of what the binding itself can do, with no pvlockfs code in the path.
 * Mounted the way the daemon mounts (found in the mount table, unmounted by its device).
 * `/binding` tells what the binding knows as it answers: its kind, the reader's pid, uid and gid,
 * and its threads' locals made, reused and ended (`-` from the stock binding).
 */
export function mountTrivial(mountpoint: string, body: string): Promise<Mounted> {
  const text = Buffer.from(body);
  const dirStat = {
    mode: 0o40755,
    nlink: 2,
    size: 0,
    uid: 0,
    gid: 0,
    mtime: 0,
    atime: 0,
    ctime: 0,
  };
  const fileStat = {
    mode: 0o100444,
    nlink: 1,
    size: 0,
    uid: 0,
    gid: 0,
    mtime: 0,
    atime: 0,
    ctime: 0,
  };
  const binding = loadBinding();
  const about = (): Buffer => {
    const t = binding.threads();
    const [pid, uid, gid] = binding.caller;
    const threads = t === null ? '-' : `${t.made} ${t.reused} ${t.ended}`;
    return Buffer.from(`${binding.kind} ${pid} ${uid} ${gid} ${threads}\n`);
  };
  const ops = {
    getattr: (path: string, cb: (c: number, s?: unknown) => void) =>
      path === '/'
        ? cb(0, dirStat)
        : path === '/histo_total' || path === '/binding'
          ? cb(0, fileStat)
          : cb(-2),
    readdir: (_path: string, cb: (c: number, n?: string[]) => void) =>
      cb(0, ['.', '..', 'histo_total', 'binding']),
    open: (path: string, _flags: number, cb: (c: number, fd?: number) => void) =>
      cb(0, path === '/binding' ? 2 : 1),
    release: (_path: string, _fd: number, cb: (c: number) => void) => cb(0),
    read: (
      _path: string,
      fd: number,
      buf: Buffer,
      len: number,
      pos: number,
      cb: (n: number) => void,
    ) => {
      const data = fd === 2 ? about() : text;
      if (pos >= data.length) return cb(0);
      const n = data.copy(buf, 0, pos, Math.min(data.length, pos + len));
      cb(n);
    },
  };
  return mountOps(
    ops,
    { mountpoint, at: () => mountpoint, nonempty: false },
    { fsname: 'trivial', subtype: 'trivial', defaultPermissions: false, debug: false },
  );
}
