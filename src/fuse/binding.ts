import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** An open reply's flag (patched binding only): the kernel opens the file non-seekable. */
export const FOPEN_NONSEEKABLE = 1;
/** See `FOPEN_NONSEEKABLE`: this file's reads and writes bypass the page cache. */
export const FOPEN_DIRECT_IO = 2;

type FuseCtor = typeof import('fuse-native');

/** The binding's native module: what pvlockfs calls directly. */
export interface NativeBinding {
  sizeof_fuse_thread_t: number;
  fuse_native_mount(...args: unknown[]): void;
  fuse_native_unmount(mnt: string, thread: unknown): void;
  /** Patched binding only: where the caller of each operation is published. */
  fuse_native_set_caller_buffer?(buf: Uint32Array): void;
  /** Patched binding only: thread-locals made, thread-locals reused, FUSE threads ended. */
  fuse_native_thread_stats?(): [number, number, number];
}

/** The FUSE binding in use. */
export interface Binding {
  /** fuse-native's class, from the copy whose native module is `native`. */
  readonly Fuse: FuseCtor;
  readonly native: NativeBinding;
  /**
   * `patched`: pvlockfs's build of fuse-native (scripts/build-binding): non-seekable files, the
   * caller of each operation, thread handles reused. `stock`: fuse-native's own binding.
   */
  readonly kind: 'patched' | 'stock';
  /** Why the stock binding is in use (null for the patched one). */
  readonly why: string | null;
  /**
   * The caller of the operation being answered — pid, uid, gid — valid while its handler runs
   * synchronously; all 0 with the stock binding, which does not say.
   */
  readonly caller: Uint32Array;
  /**
   * The binding's FUSE threads so far: thread-locals made (each with an async handle), reused
   * from an ended thread, and threads ended. Null with the stock binding, which makes one per
   * thread ever started and never frees it.
   */
  threads(): { made: number; reused: number; ended: number } | null;
}

/** Why fuse-native could not be loaded, in words a user can act on. */
export class FuseLoadError extends Error {
  readonly code = 'PVLOCKFS_FUSE_LOAD';
}

/** `PVLOCKFS_BINDING=stock` uses fuse-native's own binding even when the patched one is built. */
export const BINDING_ENV = 'PVLOCKFS_BINDING';

let loaded: Binding | null = null;

/**
 * Loads the binding once: the patched copy beside fuse-native when it was built, fuse-native's
 * own otherwise (or when `PVLOCKFS_BINDING=stock`). Explains a missing libfuse.so.2 instead of
 * a bare dlopen error.
 *
 * fuse-native 2.2.6's static `Fuse.unmount` runs `exec(\`fusermount -uz ${JSON.stringify(mnt)}\`)`:
 * a shell, in which `$(…)` and backquotes inside the double quotes expand — a mount point's name
 * would run as root. pvlockfs never lets it run: the static is replaced by one that refuses, and
 * every unmount goes through `lazyUnmount` (`execFile`, an argument array, no shell).
 */
export function loadBinding(): Binding {
  if (loaded !== null) return loaded;
  const stockDir = dirname(require.resolve('fuse-native/package.json'));
  const patchedDir = join(dirname(stockDir), '.pvlockfs-binding');
  const forced = process.env[BINDING_ENV] === 'stock';
  const built = existsSync(join(patchedDir, 'build', 'Release', 'fuse.node'));
  const dir = !forced && built ? patchedDir : stockDir;
  const why = forced ? `${BINDING_ENV}=stock` : built ? null : unavailableReason(patchedDir);
  const Fuse = requireFuse(dir);
  const native = require('node-gyp-build')(dir) as NativeBinding;
  const patched = why === null && typeof native.fuse_native_set_caller_buffer === 'function';
  const caller = new Uint32Array(3);
  if (patched) native.fuse_native_set_caller_buffer!(caller);
  loaded = {
    Fuse,
    native,
    kind: patched ? 'patched' : 'stock',
    why: patched ? null : (why ?? 'the patched binding does not export its functions'),
    caller,
    threads: () => {
      if (!patched) return null;
      const [made, reused, ended] = native.fuse_native_thread_stats!();
      return { made, reused, ended };
    },
  };
  return loaded;
}

/** What scripts/build-binding left saying why it could not build, or that it has not run. */
function unavailableReason(patchedDir: string): string {
  try {
    return readFileSync(`${patchedDir}.unavailable`, 'utf8').trim();
  } catch {
    return 'the patched FUSE binding is not built (scripts/build-binding)';
  }
}

/** fuse-native's class from `dir`, with the shell-running static unmount disarmed. */
function requireFuse(dir: string): FuseCtor {
  try {
    const Fuse = require(join(dir, 'index.js')) as FuseCtor & {
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

/** One line naming the binding in use (for `version` and the mount's banner). */
export function bindingLine(b: Binding): string {
  return b.kind === 'patched'
    ? "FUSE binding: fuse-native 2.2.6 with pvlockfs's patch (non-seekable files, caller ids, thread handles reused)"
    : `FUSE binding: fuse-native 2.2.6 as shipped (${b.why}): files stay seekable, see docs/debugfs.md §6`;
}
