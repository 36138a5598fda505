import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import type { DebugFs } from '../debugfs/fs';
import { makeOps, OpLogger } from './ops';

/** How to mount. */
export interface MountOptions {
  mountpoint: string;
  debug: boolean;
  /** Mount over a directory that is not empty (only the default mount point's placeholder). */
  nonempty: boolean;
  log: OpLogger;
}

/** A live mount. */
export interface Mounted {
  /** Unmounts (lazily, so open readers get errors instead of hanging); resolves when done. */
  unmount(): Promise<void>;
}

/** Why fuse-native could not be loaded, in words a user can act on. */
export class FuseLoadError extends Error {
  readonly code = 'PVLOCKFS_FUSE_LOAD';
}

type FuseCtor = typeof import('fuse-native');

/** Loads fuse-native; explains a missing libfuse.so.2 instead of a bare dlopen error. */
export function loadFuse(): FuseCtor {
  try {
    return require('fuse-native') as FuseCtor;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.includes('libfuse.so.2')) {
      throw new FuseLoadError('libfuse.so.2 cannot be loaded: start pvlockfs through scripts/pvlockfs (it provides the copy shipped with fuse-native) or install the libfuse2 package');
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
    const bin = join(dirname(require.resolve('fuse-shared-library-linux/package.json')), 'libfuse', 'bin');
    if (existsSync(join(bin, 'fusermount'))) process.env.PATH = [bin, ...dirs].join(delimiter);
  } catch {
    // Without it, unmount falls back to `umount -l` (see lazyUnmount).
  }
}

/** Whether `path` is a mount point in this process's mount table. */
export async function isMounted(path: string): Promise<boolean> {
  const text = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const esc = path.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012');
  return text.split('\n').some((l) => l.split(' ')[1] === esc);
}

/** Lazy unmount of a (possibly stale) mountpoint, asynchronously: never touches the mount itself. */
export function lazyUnmount(mountpoint: string): Promise<boolean> {
  ensureFusermountOnPath();
  const attempt = (cmd: string, args: string[]): Promise<boolean> =>
    new Promise((resolve) => execFile(cmd, args, { timeout: 10_000 }, (err) => resolve(err === null)));
  return attempt('fusermount', ['-uz', mountpoint]).then((done) => done || attempt('umount', ['-l', mountpoint]));
}

/**
 * Mounts the filesystem with direct_io (debugfs files report size 0, so without it the page
 * cache would serve EOF), default_permissions (the kernel checks mode bits for non-root users),
 * allow_other (agents run as other users) and fsname/subtype `pvlockfs`.
 */
export function mountFs(fs: DebugFs, opts: MountOptions): Promise<Mounted> {
  ensureFusermountOnPath();
  const Fuse = loadFuse();
  const fuse = new Fuse(opts.mountpoint, makeOps(fs, opts.log), {
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
      let done: Promise<void> | null = null;
      resolve({
        unmount: () =>
          (done ??= new Promise<void>((res, rej) => {
            fuse.unmount((e) => {
              if (!e) return void devFuseClosed(CLOSE_WAIT_MS).then(() => res());
              // fusermount failed: the mount may already be gone (unmounted from outside); else
              // fall back to a lazy umount, then report.
              void isMounted(opts.mountpoint)
                .then((still) => (still ? lazyUnmount(opts.mountpoint) : true))
                .then((ok) => (ok ? res() : rej(e)));
            });
          })),
      });
    });
  });
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
    const fds = await readdir('/proc/self/fd').catch(() => [] as string[]);
    const links = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    if (!links.includes('/dev/fuse')) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Appends `direct_io` (and `nonempty` when asked) to fuse-native's `-o` option string. */
export function withDirectIo(options: string, nonempty = false): string {
  const extra = nonempty ? 'direct_io,nonempty' : 'direct_io';
  return options === '' ? `-o${extra}` : `${options},${extra}`;
}
