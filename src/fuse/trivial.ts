import { mountOps, Mounted } from './mount';

/**
 * A trivial fuse-native filesystem serving one constant file, `/histo_total`, with direct_io:
 * the benchmark's measure of what the binding itself can do, with no pvlockfs code in the path.
 * Mounted the way the daemon mounts (found in the mount table, unmounted by its device).
 */
export function mountTrivial(mountpoint: string, text: string): Promise<Mounted> {
  const data = Buffer.from(text);
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
  const ops = {
    getattr: (path: string, cb: (c: number, s?: unknown) => void) =>
      path === '/' ? cb(0, dirStat) : path === '/histo_total' ? cb(0, fileStat) : cb(-2),
    readdir: (_path: string, cb: (c: number, n?: string[]) => void) =>
      cb(0, ['.', '..', 'histo_total']),
    open: (_path: string, _flags: number, cb: (c: number, fd?: number) => void) => cb(0, 1),
    release: (_path: string, _fd: number, cb: (c: number) => void) => cb(0),
    read: (
      _path: string,
      _fd: number,
      buf: Buffer,
      len: number,
      pos: number,
      cb: (n: number) => void,
    ) => {
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
