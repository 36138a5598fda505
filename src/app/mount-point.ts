import { constants as fsc, promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { FSTYPE, lazyUnmount, mountAt } from '../fuse/mount';
import { openPinnedDir, PinnedDir } from '../os/dir';
import { OsError, why } from '../os/errors';
import { shown, shownPath } from '../os/shown';
import { errnoOf, RuntimeError, UsageError } from './errors';

const DEFAULT_MOUNTPOINT = './mount';
/** The one file git keeps in the default mount point; it may be mounted over. */
const PLACEHOLDER = '.gitkeep';

/** How long a mount point may take to answer a directory read before it counts as hung. */
const PROBE_MS = 5000;
/** Stale mounts cleared at one path before giving up (each clear is one lazy unmount). */
const MAX_CLEARS = 3;

/**
 * Whether the FUSE mount at `path` is served: a directory read reaches its daemon. Right after a
 * daemon is killed, `stat` of the mount point still succeeds for up to a second from the
 * kernel's attribute cache, so only a real request tells a stale mount from a live one.
 */
async function served(path: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), PROBE_MS)));
  try {
    const r = await Promise.race([
      fsp.readdir(path).then(
        () => 'ok' as const,
        (e: unknown) => errnoOf(e),
      ),
      hung,
    ]);
    if (r === 'hung')
      throw new RuntimeError(
        `${path} is a mount point that does not answer (its daemon is stopped or hung; 'umount -l ${path}' clears it)`,
      );
    return r !== 'ENOTCONN' && r !== 'ECONNABORTED';
  } finally {
    clearTimeout(timer);
  }
}

/** Clears the stale mount at `at` (its daemon died), if it is pvlockfs's: another's is left alone. */
async function clearStale(at: string, say: (s: string) => void): Promise<void> {
  const m = await mountAt(at);
  if (m !== null && m.fstype !== FSTYPE)
    throw new RuntimeError(
      `${shownPath(at)} holds a stale mount of another filesystem (${shownPath(m.fstype)}); pvlockfs clears only its own: run 'umount -l ${shownPath(at)}' if it is not needed`,
    );
  say(`pvlockfs: ${shownPath(at)} holds a stale mount (its daemon died); clearing it`);
  if (!(await lazyUnmount(at)))
    throw new RuntimeError(
      `cannot clear the stale mount at ${shownPath(at)}: run 'umount -l ${shownPath(at)}' as root`,
    );
}

/**
 * Checks /dev/fuse and the mount point, clears a stale pvlockfs mount (a daemon that died), and
 * opens the mount point once (`openPinnedDir`: symlinks that another user can change are not
 * followed): the checks are made on that descriptor and root mounts exactly that directory, so
 * nobody can swap another directory in between. Returns it, and whether to pass `nonempty`
 * (only the default mount point's `.gitkeep` is allowed in it).
 */
export async function preflight(
  arg: string | undefined,
  say: (s: string) => void,
): Promise<{ dir: PinnedDir; nonempty: boolean }> {
  try {
    await fsp.access('/dev/fuse', fsc.R_OK | fsc.W_OK);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT')
      throw new RuntimeError(
        '/dev/fuse does not exist: this machine has no FUSE (load the fuse module, or give the container --device /dev/fuse)',
      );
    throw new RuntimeError(
      'no permission to use /dev/fuse: run as root (or a user allowed to mount FUSE filesystems)',
    );
  }
  const isDefault = arg === undefined;
  const abs = resolve(arg ?? DEFAULT_MOUNTPOINT);
  const shown = shownPath(abs);
  for (let clears = 0; ; clears++) {
    if (clears > MAX_CLEARS)
      throw new RuntimeError(
        `${shown}: a stale mount came back after ${MAX_CLEARS} clears; run 'umount -l ${shown}' as root`,
      );
    let dir: PinnedDir;
    try {
      dir = openPinnedDir(abs, { create: isDefault });
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOTCONN' || code === 'ECONNABORTED') {
        await clearStale(abs, say);
        continue;
      }
      if (e instanceof OsError && e.creating)
        throw new RuntimeError(`mount point ${shown}: ${e.message}`);
      if (code === 'ENOENT')
        throw new UsageError(
          `mountpoint ${shown} does not exist (expected an empty directory; create it with mkdir)`,
        );
      if (code === 'ENOTDIR')
        throw new UsageError(`mountpoint ${shown}: ${why(e)} (expected an empty directory)`);
      if (code === 'EACCES') throw new RuntimeError(`no permission to use ${shown}`);
      throw new RuntimeError(`cannot use ${shown}: ${why(e)}`);
    }
    const ok = await checkMountPoint(dir, isDefault, say).catch((e: unknown) => {
      dir.close();
      throw e;
    });
    if (ok === 'stale') {
      dir.close();
      continue;
    }
    return { dir, nonempty: ok === 'placeholder' };
  }
}

/**
 * The checks on the opened mount point: not a mount point already (a stale pvlockfs one is
 * cleared: 'stale', try again), and empty — but for the default mount point's placeholder
 * ('placeholder': mount with `nonempty`).
 */
async function checkMountPoint(
  dir: PinnedDir,
  isDefault: boolean,
  say: (s: string) => void,
): Promise<'empty' | 'placeholder' | 'stale'> {
  const mnt = dir.path;
  if ((await mountAt(mnt)) !== null) {
    if (await served(mnt))
      throw new RuntimeError(
        `${shownPath(mnt)} is already a mount point (unmount it first, e.g. 'umount ${shownPath(mnt)}')`,
      );
    await clearStale(mnt, say);
    return 'stale';
  }
  const entries = await fsp.readdir(dir.self);
  const others = entries.filter((n) => !(isDefault && n === PLACEHOLDER));
  if (others.length > 0)
    throw new UsageError(
      `mountpoint ${shownPath(mnt)} is not empty (expected an empty directory; it holds ${others.slice(0, 3).map(shown).join(', ')}${others.length > 3 ? ', …' : ''})`,
    );
  return entries.length > 0 ? 'placeholder' : 'empty';
}
