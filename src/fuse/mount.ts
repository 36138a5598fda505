import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import type { DebugFs } from '../debugfs/fs';
import { makeOps, OpLogger, withActivity } from './ops';

/** How to mount. */
export interface MountOptions {
  mountpoint: string;
  debug: boolean;
  /** Mount over a directory that is not empty (only the default mount point's placeholder). */
  nonempty: boolean;
  log: OpLogger;
  /** Told of every file operation as it arrives (optional). */
  onOperation?: () => void;
}

/** A live mount. */
export interface Mounted {
  /** The mount's id in the mount table (stable while its path may change). */
  readonly id: number;
  /** Where the mount is now (null once it is gone): its parent may have been renamed. */
  where(): Promise<string | null>;
  /**
   * Unmounts (lazily, so open readers get errors instead of hanging) the mount itself, wherever
   * it is now; resolves when it is gone, rejects saying where it is still mounted.
   */
  unmount(): Promise<void>;
  /** Lets go of the binding's handle after the mount was removed from outside. */
  release(): void;
}

/** Why fuse-native could not be loaded, in words a user can act on. */
export class FuseLoadError extends Error {
  readonly code = 'PVLOCKFS_FUSE_LOAD';
}

type FuseCtor = typeof import('fuse-native');

/**
 * Loads fuse-native; explains a missing libfuse.so.2 instead of a bare dlopen error.
 *
 * fuse-native 2.2.6's static `Fuse.unmount` runs `exec(\`fusermount -uz ${JSON.stringify(mnt)}\`)`:
 * a shell, in which `$(…)` and backquotes inside the double quotes expand — a mount point's name
 * would run as root. pvlockfs never lets it run: the static is replaced by one that refuses, and
 * every unmount goes through `lazyUnmount` (`execFile`, an argument array, no shell).
 */
export function loadFuse(): FuseCtor {
  try {
    const Fuse = require('fuse-native') as FuseCtor & {
      unmount: (mnt: string, cb: (err: Error | null) => void) => void;
    };
    Fuse.unmount = (_mnt, cb) =>
      process.nextTick(
        cb,
        new Error('fuse-native unmounts through a shell; pvlockfs unmounts with execFile instead'),
      );
    return Fuse;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.includes('libfuse.so.2')) {
      throw new FuseLoadError(
        'libfuse.so.2 cannot be loaded: start pvlockfs through its launcher (scripts/pvlockfs in a clone, the pvlockfs command of an installed package: both provide the copy shipped with fuse-native) or install the libfuse2 package',
      );
    }
    throw new FuseLoadError(`fuse-native cannot be loaded: ${msg}`);
  }
}

/**
 * fuse-native unmounts by running `fusermount -uz`; a fresh machine has none, but the
 * fuse-shared-library-linux dependency ships one. Put it on PATH when no other is there.
 */
export function ensureFusermountOnPath(): void {
  const dirs = (process.env.PATH ?? '').split(delimiter);
  if (dirs.some((d) => d !== '' && existsSync(join(d, 'fusermount')))) return;
  try {
    const bin = join(
      dirname(require.resolve('fuse-shared-library-linux/package.json')),
      'libfuse',
      'bin',
    );
    if (existsSync(join(bin, 'fusermount'))) process.env.PATH = [bin, ...dirs].join(delimiter);
  } catch {
    // Without it, unmount falls back to `umount -l` (see lazyUnmount).
  }
}

/** One line of /proc/self/mountinfo: the mount's id, where it is now, and its filesystem type. */
export interface MountEntry {
  id: number;
  path: string;
  fstype: string;
}

/** The filesystem type pvlockfs's mounts show (`fuse.` + the subtype). */
export const FSTYPE = 'fuse.pvlockfs';

/** Undoes the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash). */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * This process's mount table (/proc/self/mountinfo). A mount's id stays the same for its whole
 * life while its path follows renames of its parents, so a mount is tracked by id.
 */
export async function mountTable(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const f = line.slice(0, sep).split(' ');
    out.push({
      id: Number(f[0]),
      path: unescapeMountPath(f[4]),
      fstype: line.slice(sep + 3).split(' ')[0],
    });
  }
  return out;
}

/** The newest mount at `path` (the one on top), or null. */
export async function mountAt(path: string): Promise<MountEntry | null> {
  const at = (await mountTable()).filter((m) => m.path === path);
  return at.length > 0 ? at[at.length - 1] : null;
}

/** Where the mount with this id is now, or null once it is gone. */
export async function mountById(id: number): Promise<MountEntry | null> {
  return (await mountTable()).find((m) => m.id === id) ?? null;
}

/** Lazy unmount of a (possibly stale) mountpoint, asynchronously: never touches the mount itself. */
export function lazyUnmount(mountpoint: string): Promise<boolean> {
  // Always absolute: a path starting with '-' must never read as an option of fusermount or umount.
  if (!mountpoint.startsWith('/')) return Promise.resolve(false);
  ensureFusermountOnPath();
  const attempt = (cmd: string, args: string[]): Promise<boolean> =>
    new Promise((resolve) =>
      execFile(cmd, args, { timeout: 10_000 }, (err) => resolve(err === null)),
    );
  return attempt('fusermount', ['-uz', mountpoint]).then(
    (done) => done || attempt('umount', ['-l', mountpoint]),
  );
}

/**
 * Mounts the filesystem with direct_io (debugfs files report size 0, so without it the page
 * cache would serve EOF), default_permissions (the kernel checks mode bits for non-root users),
 * allow_other (agents run as other users) and fsname/subtype `pvlockfs`.
 */
export function mountFs(fs: DebugFs, opts: MountOptions): Promise<Mounted> {
  ensureFusermountOnPath();
  const Fuse = loadFuse();
  const table = makeOps(fs, opts.log);
  const ops = opts.onOperation ? withActivity(table, opts.onOperation) : table;
  const fuse = new Fuse(opts.mountpoint, ops, {
    allowOther: true,
    defaultPermissions: true,
    fsname: 'pvlockfs',
    subtype: 'pvlockfs',
    debug: opts.debug,
    // fuse-native's per-operation timeout costs a timer per request. Every handler here is
    // synchronous and `guard` answers each exactly once, so the safety net is not needed.
    timeout: false,
  });
  const base = fuse._fuseOptions.bind(fuse);
  fuse._fuseOptions = () => withDirectIo(base(), opts.nonempty);
  return new Promise((resolve, reject) => {
    fuse.mount((err) => {
      if (err) return reject(err);
      void mountAt(opts.mountpoint).then((entry) => {
        if (entry === null || entry.fstype !== FSTYPE)
          return reject(new Error(`the mount at ${opts.mountpoint} is not in the mount table`));
        resolve(tracked(fuse, entry.id));
      }, reject);
    });
  });
}

/** The binding's own handle release (no unmount command: it only lets go of the event loop). */
function releaseBinding(fuse: InstanceType<FuseCtor>): void {
  const binding = require('node-gyp-build')(dirname(require.resolve('fuse-native'))) as {
    fuse_native_unmount(mnt: string, thread: unknown): void;
  };
  const f = fuse as unknown as { mnt: string; _thread: unknown };
  binding.fuse_native_unmount(f.mnt, f._thread);
}

/**
 * A mount is tracked by its id, which is only trusted while this process's FUSE session is open:
 * the session's open channel keeps the mount alive, so its id cannot have been given to another
 * mount. Once the session has ended (unmounted from outside), the id may be reused at once.
 */
function tracked(fuse: InstanceType<FuseCtor>, id: number): Mounted {
  let done: Promise<void> | null = null;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    releaseBinding(fuse);
  };
  const where = async (): Promise<string | null> =>
    (await sessionOpen()) ? ((await mountById(id))?.path ?? null) : null;
  const unmount = async (): Promise<void> => {
    const at = await where();
    if (at !== null && !(await lazyUnmount(at)))
      throw new Error(`still mounted at ${at} (fusermount -uz and umount -l both failed)`);
    release();
    await devFuseClosed(CLOSE_WAIT_MS);
  };
  return { id, where, unmount: () => (done ??= unmount()), release };
}

/** Whether this process still holds its /dev/fuse channel (the FUSE session is running). */
export async function sessionOpen(): Promise<boolean> {
  const fds = await readdir('/proc/self/fd').catch(() => [] as string[]);
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return links.includes('/dev/fuse');
}

/** How long shutdown waits for the FUSE session to end after the lazy unmount. */
const CLOSE_WAIT_MS = 3000;

/**
 * Resolves once this process holds no /dev/fuse descriptor any more (the libfuse loop has ended
 * and closed its channel), or after `timeoutMs`. fuse-native never joins its FUSE thread: exiting
 * while a request is still being served tears Node down under the libfuse workers and crashes
 * (seen as SIGSEGV under heavy reads). After the lazy unmount the session ends as soon as no
 * client holds a file open, so waiting for it makes the exit clean.
 */
export async function devFuseClosed(timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (!(await sessionOpen())) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Appends `direct_io` (and `nonempty` when asked) to fuse-native's `-o` option string. */
export function withDirectIo(options: string, nonempty = false): string {
  const extra = nonempty ? 'direct_io,nonempty' : 'direct_io';
  return options === '' ? `-o${extra}` : `${options},${extra}`;
}
