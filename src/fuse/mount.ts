import type { DebugFs } from '../debugfs/fs';
import type { Faults } from '../faults/faults';
import { loadBinding } from './binding';
import { withFaults } from './fault-ops';
import { AccessLogSink, withAccessLog } from './access-log';
import {
  devFuseClosed,
  ensureFusermountOnPath,
  lazyUnmount,
  mountById,
  MountEntry,
  mountTable,
  sessionOpen,
  unmountDevice,
} from './mount-table';
import { makeOps, OpLogger, withActivity } from './ops';

export {
  devFuseClosed,
  FSTYPE,
  lazyUnmount,
  mountAt,
  mountById,
  mountTable,
  sessionOpen,
  unmountDevice,
} from './mount-table';
export type { MountEntry } from './mount-table';
export { FuseLoadError } from './binding';

/** How to mount. */
export interface MountOptions {
  /**
   * What mount(2) is given: for root, `/proc/self/fd/N` of the mount point opened once (the
   * kernel mounts on exactly that directory, whatever its path has become since); otherwise the
   * path, which fusermount (another process) resolves itself.
   */
  mountpoint: string;
  /** Where the mount point is now (its path in the mount table). */
  at: () => string;
  debug: boolean;
  /** Mount over a directory that is not empty (only the default mount point's placeholder). */
  nonempty: boolean;
  log: OpLogger;
  /** Told of every file operation as it arrives (optional). */
  onOperation?: () => void;
  /** Fault injection, asked before the operations it watches (optional). */
  faults?: Faults;
  /** Where a line per answered operation goes (optional). */
  accessLog?: AccessLogSink;
}

/** A live mount. */
export interface Mounted {
  /** The mount's id in the mount table (stable while its path may change). */
  readonly id: number;
  /** The mount's device (`major:minor`): the same for every bind mount of it. */
  readonly dev: string;
  /** Where the mount is now (null once it is gone): its parent may have been renamed. */
  where(): Promise<string | null>;
  /**
   * Unmounts (lazily, so open readers get errors instead of hanging) the mount and every bind
   * mount of it, wherever they are now — never a filesystem someone mounted on top of one of
   * them; resolves when none is left, rejects saying what remains and why.
   */
  unmount(): Promise<void>;
  /** Lets go of the binding's handle after the mount was removed from outside. */
  release(): void;
}

type FuseCtor = typeof import('fuse-native');
type Operations = import('fuse-native').Operations;

/**
 * Mounts the filesystem with direct_io (debugfs files report size 0, so without it the page
 * cache would serve EOF), default_permissions (the kernel checks mode bits for non-root users),
 * allow_other (agents run as other users) and fsname/subtype `pvlockfs`.
 *
 * fuse-native's own mount checks the mount point by path (stat, then its parent's device), which
 * neither works for `/proc/self/fd/N` nor adds anything to the checks pvlockfs made on the
 * descriptor: its `_open` is replaced by the same call without them.
 */
export function mountFs(fs: DebugFs, opts: MountOptions): Promise<Mounted> {
  const plain = makeOps(fs, opts.log);
  const caller = loadBinding().caller;
  const faulted = opts.faults ? withFaults(plain, opts.faults, () => caller[0]) : plain;
  const table = opts.accessLog ? withAccessLog(faulted, opts.accessLog) : faulted;
  const ops = opts.onOperation ? withActivity(table, opts.onOperation) : table;
  return mountOps(ops, opts, {
    defaultPermissions: true,
    fsname: 'pvlockfs',
    subtype: 'pvlockfs',
    debug: opts.debug,
    useIno: true,
  });
}

/** What names a filesystem of this process and how the kernel checks access to it. */
interface Identity {
  fsname: string;
  /** The mount table's type is `fuse.SUBTYPE`: how a fresh mount of this process is found. */
  subtype: string;
  defaultPermissions: boolean;
  debug: boolean;
  /** The operations give inode numbers (`use_ino`); otherwise libfuse numbers the nodes. */
  useIno?: boolean;
}

/**
 * Mounts a table of FUSE operations (allow_other, direct_io, fuse-native's per-request timeout
 * off) at `opts.mountpoint` and finds it in the mount table: the one way this project mounts,
 * for the daemon and for the benchmark's trivial filesystem alike.
 */
export function mountOps(
  ops: Operations,
  opts: Pick<MountOptions, 'mountpoint' | 'at' | 'nonempty'>,
  id: Identity,
): Promise<Mounted> {
  ensureFusermountOnPath();
  const { Fuse } = loadBinding();
  const fuse = new Fuse(opts.mountpoint, ops, {
    allowOther: true,
    defaultPermissions: id.defaultPermissions,
    fsname: id.fsname,
    subtype: id.subtype,
    debug: id.debug,
    // fuse-native's per-operation timeout costs a timer per request. Every handler here answers
    // each request exactly once (`guard`), so the safety net is not needed.
    timeout: false,
  });
  const base = fuse._fuseOptions.bind(fuse);
  fuse._fuseOptions = () => withDirectIo(base(), opts.nonempty, id.useIno === true);
  mountWithoutPathChecks(fuse);
  return mountTable().then(
    (before) =>
      new Promise((resolve, reject) => {
        const known = new Set(before.map((m) => m.id));
        fuse.mount((err) => {
          if (err) return reject(err);
          void identify(fuse, known, opts.at(), `fuse.${id.subtype}`).then(resolve, reject);
        });
      }),
  );
}

/** Replaces fuse-native's `_open` by the binding's mount call alone (see `mountFs`). */
function mountWithoutPathChecks(fuse: InstanceType<FuseCtor>): void {
  const f = fuse as unknown as {
    mnt: string;
    _thread: Buffer;
    _openCallback: ((err: Error | null) => void) | null;
    _fuseOptions(): string;
    _malloc: unknown;
    _handlers: unknown;
    _getImplementedArray(): unknown;
    _open(cb: (err: Error | null) => void): void;
  };
  const binding = loadBinding().native;
  f._open = (cb) => {
    f._thread = Buffer.alloc(binding.sizeof_fuse_thread_t);
    f._openCallback = cb;
    try {
      binding.fuse_native_mount(
        f.mnt,
        f._fuseOptions(),
        f._thread,
        f,
        f._malloc,
        f._handlers,
        f._getImplementedArray(),
      );
    } catch (e) {
      f._openCallback = null;
      cb(e as Error);
    }
  };
}

/**
 * Finds the mount just made: the one pvlockfs mount that appeared at `path` since `known` was
 * read. Anything else (none, or two daemons mounting the same directory at the same instant)
 * fails, after unmounting what appeared, so nothing is left mounted that no one serves.
 */
async function identify(
  fuse: InstanceType<FuseCtor>,
  known: ReadonlySet<number>,
  path: string,
  fstype: string,
): Promise<Mounted> {
  const fresh = (await mountTable()).filter((m) => !known.has(m.id) && m.fstype === fstype);
  const here = fresh.filter((m) => m.path === path);
  if (here.length === 1) return tracked(fuse, here[0]);
  for (const p of new Set(fresh.map((m) => m.path))) await lazyUnmount(p);
  releaseBinding(fuse);
  throw new Error(
    here.length === 0
      ? `the mount at ${path} is not in the mount table`
      : `${here.length} ${fstype} mounts appeared at ${path} at once; all were unmounted`,
  );
}

/** The binding's own handle release (no unmount command: it only lets go of the event loop). */
function releaseBinding(fuse: InstanceType<FuseCtor>): void {
  const binding = loadBinding().native;
  const f = fuse as unknown as { mnt: string; _thread: unknown };
  binding.fuse_native_unmount(f.mnt, f._thread);
}

/**
 * A mount is tracked by its id and device, which are only trusted while this process's FUSE
 * session is open: the session's open channel keeps the mount alive, so its id cannot have been
 * given to another mount. Once the session has ended (unmounted from outside), the id may be
 * reused at once.
 */
function tracked(fuse: InstanceType<FuseCtor>, entry: MountEntry): Mounted {
  let done: Promise<void> | null = null;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    releaseBinding(fuse);
  };
  const where = async (): Promise<string | null> =>
    (await sessionOpen()) ? ((await mountById(entry.id))?.path ?? null) : null;
  const unmount = async (): Promise<void> => {
    if (await sessionOpen()) {
      const left = await unmountDevice(entry.dev, entry.fstype);
      if (left.length > 0) throw new Error(left.join('; '));
    }
    release();
    await devFuseClosed(CLOSE_WAIT_MS);
  };
  return { id: entry.id, dev: entry.dev, where, unmount: () => (done ??= unmount()), release };
}

/** How long shutdown waits for the FUSE session to end after the lazy unmount. */
const CLOSE_WAIT_MS = 3000;

/**
 * Appends `direct_io`, the flags debugfs is mounted with on a systemd machine (`nosuid`, `nodev`,
 * `noexec`: statfs's f_flags then match), `use_ino` (the tree's own inode numbers) and `nonempty`
 * when asked, to fuse-native's `-o` option string.
 */
export function withDirectIo(options: string, nonempty = false, useIno = false): string {
  const extra = `direct_io,nosuid,nodev,noexec${useIno ? ',use_ino' : ''}${nonempty ? ',nonempty' : ''}`;
  return options === '' ? `-o${extra}` : `${options},${extra}`;
}
