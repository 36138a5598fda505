import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPinnedDir, symlinkTrusted } from '../../../src/os/dir';
import { OutFile, removeStaleTemps } from '../../../src/os/out-file';
import { shownPath } from '../../../src/os/shown';

/** These tests chown files to `nobody` (the other user), so they need root, as the project does. */
const ROOT = process.geteuid?.() === 0;

describe('output files and pinned directories (the rules a root daemon needs)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-os-'));
    await fsp.chmod(dir, 0o755);
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('writes a new file through a temporary name and leaves nothing else', async () => {
    const path = join(dir, 'new.json');
    expect(OutFile.write(path, '--trace', 'hello\n')).toBe(path);
    expect(await fsp.readFile(path, 'utf8')).toBe('hello\n');
    expect((await fsp.readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('replaces a symlink to a regular file (never its target) and refuses one to anything else', async () => {
    const victim = join(dir, 'victim');
    await fsp.writeFile(victim, 'keep\n');
    const link = join(dir, 'to-file');
    await fsp.symlink(victim, link);
    OutFile.write(link, '--trace', 'new\n');
    expect(await fsp.readFile(victim, 'utf8')).toBe('keep\n');
    expect((await fsp.lstat(link)).isFile()).toBe(true);
    for (const [name, target, kind] of [
      ['to-dir', dir, 'a directory'],
      ['to-null', '/dev/null', 'a character device'],
    ]) {
      const l = join(dir, name);
      await fsp.symlink(target, l);
      expect(() => OutFile.open(l, '--trace')).toThrow(`is a symlink to ${kind}`);
      expect((await fsp.lstat(l)).isSymbolicLink()).toBe(true);
    }
  });

  it('writes through a character device named directly, and to descriptors; refuses a FIFO and anything new under /dev', async () => {
    expect(OutFile.write('/dev/null', '--trace', 'x')).toBe('/dev/null');
    expect((await fsp.lstat('/dev/null')).isCharacterDevice()).toBe(true);
    expect(() => OutFile.write('/dev/full', '--trace', 'x')).toThrow(/ENOSPC/);
    expect(() => OutFile.open('/dev/pvlockfs-new.json', '--trace')).toThrow(
      /under \/dev, \/proc or \/sys/,
    );
    expect(() => OutFile.open('/proc/self/fd/987654', '--trace')).toThrow(/not an open descriptor/);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => OutFile.open(fifo, '--trace')).toThrow(/exists and is a FIFO/);
  });

  it('keep: an existing name is never replaced; numbered names, then a random one when those are taken', async () => {
    const d = openPinnedDir(join(dir));
    try {
      await fsp.writeFile(join(dir, 'rec.json'), 'first\n');
      for (let n = 2; n <= 20; n++) await fsp.writeFile(join(dir, `rec-${n}.json`), 'planted\n');
      const f = OutFile.inDir(d, 'rec.json', 'trace_ns');
      f.write('mine\n');
      const where = f.commit(true);
      expect(where).toMatch(/\/rec-[0-9a-f]{12}\.json$/);
      expect(await fsp.readFile(where, 'utf8')).toBe('mine\n');
      expect(await fsp.readFile(join(dir, 'rec.json'), 'utf8')).toBe('first\n');
    } finally {
      d.close();
    }
  });

  it('a pinned directory keeps its files where it was opened, whatever is swapped in for its path', async () => {
    const a = join(dir, 'pinned');
    await fsp.mkdir(a);
    const d = openPinnedDir(a);
    try {
      await fsp.rename(a, `${a}.moved`);
      await fsp.mkdir(a);
      OutFile.inDir(d, 'x.json', 'test').abort();
      const f = OutFile.inDir(d, 'x.json', 'test');
      f.write('x');
      f.commit();
      expect(await fsp.readdir(`${a}.moved`)).toEqual(['x.json']);
      expect(await fsp.readdir(a)).toEqual([]);
      expect(d.now()).toBe(`${a}.moved`);
    } finally {
      d.close();
    }
  });

  it('creates missing directories one level at a time, and says which one it could not make', async () => {
    const deep = join(dir, 'a', 'b', 'c');
    openPinnedDir(deep, { create: true }).close();
    expect((await fsp.stat(deep)).isDirectory()).toBe(true);
    expect(() => openPinnedDir('/proc/pvlockfs-nope/x', { create: true })).toThrow(
      /cannot create \/proc\/pvlockfs-nope \(ENOENT\)/,
    );
    await fsp.writeFile(join(dir, 'file'), '');
    expect(() => openPinnedDir(join(dir, 'file', 'x'))).toThrow(
      /file exists and is not a directory/,
    );
  });

  it.runIf(ROOT)('follows a symlink only when no other user can change it', async () => {
    const home = join(dir, 'home');
    await fsp.mkdir(home);
    execFileSync('chown', ['nobody', home]);
    const link = join(home, 'link');
    await fsp.symlink(dir, link);
    // Root's symlink in a directory nobody owns: nobody could replace it.
    expect(() => openPinnedDir(link)).toThrow(/another user/);
    execFileSync('chown', ['root', home]);
    openPinnedDir(link).close();
    execFileSync('chown', ['-h', 'nobody', link]);
    expect(() => openPinnedDir(link)).toThrow(/another user \(uid \d+\) can change/);
  });

  it('the trust rule: owner root or us, one name, a directory no one else can write (or sticky with a matching owner)', () => {
    const st = (uid: number, mode: number, nlink = 1) => ({ uid, mode, nlink }) as never;
    expect(symlinkTrusted(st(0, 0o777), st(0, 0o755), 0)).toBe(true);
    expect(symlinkTrusted(st(1000, 0o777), st(0, 0o755), 0)).toBe(false);
    expect(symlinkTrusted(st(0, 0o777, 2), st(0, 0o755), 0)).toBe(false);
    expect(symlinkTrusted(st(0, 0o777), st(1000, 0o755), 0)).toBe(false);
    expect(symlinkTrusted(st(0, 0o777), st(0, 0o775), 0)).toBe(false);
    expect(symlinkTrusted(st(0, 0o777), st(0, 0o1777), 0)).toBe(true);
    expect(symlinkTrusted(st(1000, 0o777), st(0, 0o1777), 1000)).toBe(true);
    expect(symlinkTrusted(st(1000, 0o777), st(0, 0o1777), 0)).toBe(false);
  });

  it('removes the temporary files of writers that are gone, and only those', async () => {
    const t = join(dir, 'temps');
    await fsp.mkdir(t);
    const dead = `.pvlockfs-trace-0ns.json.${2 ** 22 + 12345}.0123456789ab.tmp`;
    const live = `.pvlockfs-trace-1ns.json.${process.pid}.0123456789ab.tmp`;
    for (const n of [dead, live, 'other.tmp']) await fsp.writeFile(join(t, n), '');
    const d = openPinnedDir(t);
    try {
      expect(removeStaleTemps(d)).toBe(1);
    } finally {
      d.close();
    }
    expect((await fsp.readdir(t)).sort()).toEqual([live, 'other.tmp'].sort());
  });

  it('shows a path on one line: control characters and backslashes escaped, long ones cut', () => {
    expect(shownPath('a\nb\tc\x1b[31m\\')).toBe('a\\nb\\tc\\x1b[31m\\\\');
    expect(shownPath('x'.repeat(131_000))).toMatch(/^x{200}… \(131000 characters\)$/);
  });
});
