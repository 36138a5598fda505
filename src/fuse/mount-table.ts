import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';

/*
 * The mount table as this process sees it (/proc/self/mountinfo), and the unmounts pvlockfs makes:
 * by path only after checking what is mounted there, always through execFile (no shell).
 */

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

/** One line of /proc/self/mountinfo: the mount's id, its parent's, its device, where it is now, and its filesystem type and source. */
export interface MountEntry {
  id: number;
  parent: number;
  /** `major:minor` of the filesystem (bind mounts of one filesystem share it). */
  dev: string;
  path: string;
  fstype: string;
  source: string;
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
    const tail = line.slice(sep + 3).split(' ');
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      dev: f[2],
      path: unescapeMountPath(f[4]),
      fstype: tail[0],
      source: unescapeMountPath(tail[1] ?? ''),
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
 * Lazily unmounts every mount of device `dev` (of type `fstype`, when given: the mount and its bind mounts) that nothing is
 * mounted on top of: unmounting by path acts on the topmost mount there, which is then not ours.
 * Returns what remains, in words: empty when every mount of `dev` is gone.
 */
export async function unmountDevice(dev: string, fstype?: string): Promise<string[]> {
  // A mount of another filesystem type is never ours, whatever its device number says (one
  // loaded run saw another FUSE daemon's mount listed under the same number).
  const mine = (m: MountEntry): boolean =>
    m.dev === dev && (fstype === undefined || m.fstype === fstype);
  const table = await mountTable();
  const ours = table.filter(mine);
  const covers = (m: MountEntry): MountEntry | undefined =>
    table.find((o) => o.parent === m.id && o.path === m.path);
  for (const m of ours) {
    if (covers(m) !== undefined) continue;
    const top = await mountAt(m.path);
    if (top !== null && top.dev === dev) await lazyUnmount(m.path);
  }
  const after = await mountTable();
  return after.filter(mine).map((m) => {
    const c = after.find((o) => o.parent === m.id && o.path === m.path);
    return c !== undefined
      ? `still mounted at ${m.path}: ${c.source} (${c.fstype}) is mounted on top of it and was left alone; unmount that first ('umount ${m.path}'), then 'umount -l ${m.path}'`
      : `still mounted at ${m.path} (fusermount -uz and umount -l both failed)`;
  });
}

/** Whether this process still holds its /dev/fuse channel (the FUSE session is running). */
export async function sessionOpen(): Promise<boolean> {
  const fds = await readdir('/proc/self/fd').catch(() => [] as string[]);
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return links.includes('/dev/fuse');
}
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
