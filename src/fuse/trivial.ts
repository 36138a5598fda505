import { loadFuse, withDirectIo } from './mount';

/**
 * A trivial fuse-native filesystem serving one constant file, `/histo_total`, with direct_io:
 * the benchmark's measure of what the binding itself can do, with no pvlockfs code in the path.
 * Resolves to an unmount function once mounted.
 */
export function mountTrivial(mountpoint: string, text: string): Promise<() => Promise<void>> {
  const Fuse = loadFuse();
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
  const fuse = new Fuse(mountpoint, ops, { allowOther: true, fsname: 'trivial' });
  const base = fuse._fuseOptions.bind(fuse);
  fuse._fuseOptions = () => withDirectIo(base());
  return new Promise((resolve, reject) =>
    fuse.mount((err) =>
      err
        ? reject(err)
        : resolve(() => new Promise<void>((res, rej) => fuse.unmount((e) => (e ? rej(e) : res())))),
    ),
  );
}
