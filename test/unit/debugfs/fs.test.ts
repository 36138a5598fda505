import { describe, expect, it } from 'vitest';
import { fsErrorCode } from './helpers';
import { DebugFs, REFUSED, RefusedOp, S_IFDIR, S_IFREG } from '../../../src/debugfs/fs';
import { createAttr, createDir, createText } from '../../../src/debugfs/nodes';

function makeFs(): { fs: DebugFs; clock: { ms: number } } {
  const clock = { ms: 1000 };
  const root = createDir('', null, 500, 0o700);
  const sub = createDir('kvm', root, 500);
  createAttr(
    'knob',
    0o644,
    sub,
    32,
    () => 1n,
    () => undefined,
    500,
  );
  return { fs: new DebugFs(root, 'modern', () => clock.ms), clock };
}

const code = fsErrorCode;

describe('DebugFs', () => {
  it('stats like debugfs: size 0, blocks 0, blksize 4096, nlink 1 / 2 + subdirs', () => {
    const { fs } = makeFs();
    expect(fs.getattr('/')).toMatchObject({ mode: S_IFDIR | 0o700, nlink: 3, size: 0 });
    expect(fs.getattr('/kvm/knob')).toMatchObject({
      mode: S_IFREG | 0o644,
      nlink: 1,
      size: 0,
      blocks: 0,
      blksize: 4096,
      uid: 0,
      gid: 0,
    });
  });

  it('truncate sets mtime and ctime only; read and write change no timestamp', () => {
    const { fs, clock } = makeFs();
    const fh = fs.open('/kvm/knob');
    clock.ms = 2000;
    fs.read(fh, 0, 100);
    fs.write(fh, Buffer.from('5'));
    expect(fs.getattr('/kvm/knob')).toMatchObject({ atimeMs: 500, mtimeMs: 500, ctimeMs: 500 });
    clock.ms = 3000;
    fs.truncate('/kvm/knob');
    expect(fs.getattr('/kvm/knob')).toMatchObject({
      atimeMs: 500,
      mtimeMs: 3000,
      ctimeMs: 3000,
      size: 0,
    });
  });

  it('chmod and chown are kept in memory, like simple_setattr', () => {
    const { fs } = makeFs();
    fs.chmod('/kvm/knob', 0o600);
    fs.chown('/kvm/knob', 7, -1);
    expect(fs.getattr('/kvm/knob')).toMatchObject({ mode: S_IFREG | 0o600, uid: 7, gid: 0 });
  });

  it.each(Object.entries(REFUSED) as [RefusedOp, string][])(
    '%s is refused with %s',
    (op, errno) => {
      const { fs } = makeFs();
      expect(code(() => fs.refuse(op, '/kvm/new'))).toBe(errno);
    },
  );

  it('unknown paths are ENOENT, paths through files ENOTDIR, bad handles EBADF', () => {
    const { fs } = makeFs();
    expect(code(() => fs.getattr('/nope'))).toBe('ENOENT');
    expect(code(() => fs.getattr('/kvm/knob/x'))).toBe('ENOTDIR');
    expect(code(() => fs.read(42, 0, 1))).toBe('EBADF');
    expect(code(() => fs.open('/kvm'))).toBe('EISDIR');
  });

  it('a name longer than 255 bytes is ENAMETOOLONG, wherever it is in the path', () => {
    const { fs } = makeFs();
    expect(code(() => fs.getattr(`/kvm/${'x'.repeat(255)}`))).toBe('ENOENT');
    expect(code(() => fs.getattr(`/kvm/${'x'.repeat(256)}`))).toBe('ENAMETOOLONG');
    expect(code(() => fs.getattr(`/${'x'.repeat(256)}/knob`))).toBe('ENAMETOOLONG');
    // Bytes, not characters: 128 two-byte characters are 256 bytes.
    expect(code(() => fs.getattr(`/kvm/${'é'.repeat(128)}`))).toBe('ENAMETOOLONG');
    expect(code(() => fs.getattr(`/kvm/${'é'.repeat(127)}`))).toBe('ENOENT');
  });

  it('entries give each name its type and inode number, . and .. first', () => {
    const { fs } = makeFs();
    const kvm = fs.getattr('/kvm').ino;
    expect(fs.entries('/')).toEqual([
      ['.', S_IFDIR, 1],
      ['..', S_IFDIR, 1],
      ['kvm', S_IFDIR, kvm],
    ]);
    const inKvm = fs.entries('/kvm');
    expect(inKvm.slice(0, 2)).toEqual([
      ['.', S_IFDIR, kvm],
      ['..', S_IFDIR, 1],
    ]);
    for (const [name, mode, ino] of inKvm.slice(2))
      expect([mode, ino]).toEqual([S_IFREG, fs.getattr(`/kvm/${name}`).ino]);
  });

  it('releases handles (no leak over many opens)', () => {
    const { fs } = makeFs();
    for (let i = 0; i < 10_000; i++) fs.release(fs.open('/kvm/knob'));
    expect(fs.openCount).toBe(0);
  });
});

describe('DebugFs open files: bounded, least recently used closed first, text shared', () => {
  function textFs(handles: number, capturedBytes = 1 << 30): DebugFs {
    const root = createDir('', null, 0, 0o700);
    createText('config', 0o444, root, () => 'x'.repeat(1000), 0);
    createAttr(
      'knob',
      0o644,
      root,
      32,
      () => 7n,
      () => undefined,
      0,
    );
    return new DebugFs(root, 'modern', () => 0, { handles, capturedBytes });
  }

  it('an open never fails: past the limit the least recently used file is closed (EIO on its next read)', () => {
    const fs = textFs(3);
    const a = fs.open('/knob');
    const b = fs.open('/knob');
    const c = fs.open('/knob');
    fs.read(a, 0, 10); // a is now the most recently used
    const d = fs.open('/knob');
    expect(fs.openCount).toBe(3);
    expect(fs.evicted).toBe(1);
    expect(code(() => fs.read(b, 0, 10))).toBe('EIO');
    expect(fs.read(a, 2, 10).length).toBe(0);
    expect(fs.read(c, 0, 10).toString()).toBe('7\n');
    expect(fs.read(d, 0, 10).toString()).toBe('7\n');
    expect(code(() => fs.read(99, 0, 1))).toBe('EBADF');
  });

  it('the text the open files hold is bounded too; files that capture the same text share it', () => {
    const fs = textFs(100, 2500);
    const fhs = [0, 1, 2].map(() => fs.open('/config'));
    const texts = fhs.map((fh) => fs.read(fh, 0, 10));
    // Two captures fit in 2500 bytes: the third read closed the first file.
    expect(fs.openCount).toBe(2);
    expect(fs.capturedCount).toBe(2000);
    expect(texts[1].buffer).toBe(texts[2].buffer);
    for (const fh of fhs) fs.release(fh);
    expect([fs.openCount, fs.capturedCount]).toEqual([0, 0]);
  });
});
