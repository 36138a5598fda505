import { describe, expect, it } from 'vitest';
import { ERRNO, FsError } from '../../../src/debugfs/errors';
import { DebugFs, O_DIRECT } from '../../../src/debugfs/fs';
import { createAttr, createDir, createU32Array } from '../../../src/debugfs/nodes';
import { guard, makeOps, withActivity } from '../../../src/fuse/ops';
import { withDirectIo } from '../../../src/fuse/mount';
import { FOPEN_NONSEEKABLE } from '../../../src/fuse/binding';

function recorder(): { cb: (...a: unknown[]) => void; calls: unknown[][] } {
  const calls: unknown[][] = [];
  return { cb: (...a: unknown[]) => void calls.push(a), calls };
}

function ops(): { o: ReturnType<typeof makeOps>; logs: string[] } {
  const root = createDir('', null, 0, 0o700);
  const k = createDir('kvm', root, 0);
  createAttr(
    'timeout',
    0o644,
    k,
    32,
    () => 1024n,
    () => undefined,
    0,
  );
  createAttr(
    'broken',
    0o444,
    k,
    64,
    () => {
      throw new TypeError('bug');
    },
    null,
    0,
  );
  createU32Array('histo', 0o444, k, () => [1, 2], 0);
  const logs: string[] = [];
  return { o: makeOps(new DebugFs(root, 'modern', () => 0), (l) => logs.push(l)), logs };
}

describe('guard: every callback answered exactly once, with a number first', () => {
  it('passes the answer through', () => {
    const r = recorder();
    guard(
      'x',
      '/p',
      r.cb,
      () => undefined,
      () => [0, 'v'],
    );
    expect(r.calls).toEqual([[0, 'v']]);
  });

  it('turns an FsError into -errno', () => {
    const r = recorder();
    guard(
      'x',
      '/p',
      r.cb,
      () => undefined,
      () => {
        throw new FsError('ESPIPE');
      },
    );
    expect(r.calls).toEqual([[-ERRNO.ESPIPE]]);
  });

  it('turns anything else into -EIO and logs op and path', () => {
    const r = recorder();
    const logs: string[] = [];
    guard(
      'read',
      '/kvm/x',
      r.cb,
      (l) => logs.push(l),
      () => {
        throw new Error('boom');
      },
    );
    expect(r.calls).toEqual([[-ERRNO.EIO]]);
    expect(logs[0]).toMatch(/read \/kvm\/x: unexpected Error: boom/);
  });
});

describe('makeOps over a real DebugFs', () => {
  it('readdir lists . and .. then the names, each with a stat whose type gives d_type', () => {
    const { o } = ops();
    const r = recorder();
    o.readdir('/kvm', r.cb);
    const [names, stats] = [r.calls[0][1], r.calls[0][2]] as [string[], { mode: number }[]];
    expect([r.calls[0][0], names]).toEqual([0, ['.', '..', 'timeout', 'broken', 'histo']]);
    expect(stats.map((st) => st.mode)).toEqual([0o040000, 0o040000, 0o100000, 0o100000, 0o100000]);
  });

  it('open answers the handle and the reply flag that makes the file non-seekable', () => {
    const { o } = ops();
    const r = recorder();
    o.open('/kvm/timeout', 0, r.cb);
    expect(r.calls).toEqual([[0, 1, FOPEN_NONSEEKABLE]]);
  });

  it('fsync of an open file answers EINVAL (debugfs files have no fsync)', () => {
    const { o } = ops();
    const open = recorder();
    o.open('/kvm/timeout', 0, open.cb);
    const r = recorder();
    o.fsync('/kvm/timeout', 0, open.calls[0][1], r.cb);
    expect(r.calls).toEqual([[-ERRNO.EINVAL]]);
  });

  it('O_DIRECT opens answer EINVAL, files and directories alike', () => {
    const { o } = ops();
    const [f, dir] = [recorder(), recorder()];
    o.open('/kvm/timeout', O_DIRECT, f.cb);
    o.opendir('/kvm', O_DIRECT, dir.cb);
    expect([f.calls, dir.calls]).toEqual([[[-ERRNO.EINVAL]], [[-ERRNO.EINVAL]]]);
  });

  it('open/read/release copy bytes into the kernel buffer and answer byte counts', () => {
    const { o } = ops();
    const open = recorder();
    o.open('/kvm/timeout', 0, open.cb);
    const fh = open.calls[0][1] as number;
    expect(open.calls[0][0]).toBe(0);
    const buf = Buffer.alloc(16);
    const read = recorder();
    o.read('/kvm/timeout', fh, buf, 16, 0, read.cb);
    expect(read.calls).toEqual([[5]]);
    expect(buf.subarray(0, 5).toString()).toBe('1024\n');
    const again = recorder();
    o.read('/kvm/timeout', fh, buf, 16, 2, again.cb);
    expect(again.calls).toEqual([[-ERRNO.ESPIPE]]);
    const rel = recorder();
    o.release('/kvm/timeout', fh, rel.cb);
    expect(rel.calls).toEqual([[0]]);
  });

  it('a getter that throws answers -EIO and logs (never hangs the reader)', () => {
    const { o, logs } = ops();
    const open = recorder();
    o.open('/kvm/broken', 0, open.cb);
    const read = recorder();
    o.read('/kvm/broken', open.calls[0][1], Buffer.alloc(8), 8, 0, read.cb);
    expect(read.calls).toEqual([[-ERRNO.EIO]]);
    expect(logs).toHaveLength(1);
  });

  it.each([
    ['create', ['/kvm/new', 0o644], -ERRNO.EACCES],
    ['mkdir', ['/kvm/new', 0o755], -ERRNO.EPERM],
    ['unlink', ['/kvm/timeout'], -ERRNO.EPERM],
    ['rmdir', ['/kvm'], -ERRNO.EPERM],
    ['rename', ['/kvm/timeout', '/kvm/t2'], -ERRNO.EPERM],
    ['link', ['/kvm/timeout', '/kvm/t2'], -ERRNO.EPERM],
    ['symlink', ['timeout', '/kvm/t2'], -ERRNO.EPERM],
    ['mknod', ['/kvm/n', 0o10644, 0], -ERRNO.EPERM],
    ['setxattr', ['/kvm/timeout', 'user.a', Buffer.from('1'), 0, 0], -ERRNO.EOPNOTSUPP],
    ['getxattr', ['/kvm/timeout', 'user.a', 0], -ERRNO.EOPNOTSUPP],
    ['removexattr', ['/kvm/timeout', 'user.a'], -ERRNO.EOPNOTSUPP],
    ['truncate', ['/kvm/timeout', 0], 0],
    ['chmod', ['/kvm/timeout', 0o600], 0],
    ['chown', ['/kvm/timeout', 1, 1], 0],
    ['utimens', ['/kvm/timeout', 1000, 1000], 0],
    ['readlink', ['/kvm/timeout'], -ERRNO.EINVAL],
    ['getattr', ['/nope'], -ERRNO.ENOENT],
  ])('%s answers %d', (op, args, code) => {
    const { o } = ops();
    const r = recorder();
    (o[op] as (...a: unknown[]) => void)(...args, r.cb);
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0][0]).toBe(code);
  });

  it('direct_io and nosuid,nodev,noexec are always appended to the mount options', () => {
    const always = 'direct_io,nosuid,nodev,noexec';
    expect(withDirectIo('')).toBe(`-o${always}`);
    expect(withDirectIo('-oallow_other,default_permissions')).toBe(
      `-oallow_other,default_permissions,${always}`,
    );
    expect(withDirectIo('-oallow_other', true)).toBe(`-oallow_other,${always},nonempty`);
    expect(withDirectIo('', false, true)).toBe(`-o${always},use_ino`);
  });
});

describe('withActivity', () => {
  it('tells of each operation before answering it, and answers exactly as the table does', () => {
    const { o } = ops();
    const seen: string[] = [];
    const w = withActivity(o, () => seen.push('op'));
    expect(Object.keys(w).sort()).toEqual(Object.keys(o).sort());
    const plain = recorder();
    const told = recorder();
    o.getattr('/kvm/timeout', plain.cb);
    w.getattr('/kvm/timeout', (...a: unknown[]) => {
      seen.push('answer');
      told.cb(...a);
    });
    expect(told.calls).toEqual(plain.calls);
    expect(seen).toEqual(['op', 'answer']);
  });
});

describe('guard: an operation that completes later', () => {
  it('is answered once, when its promise settles: its value, or -errno', async () => {
    const ok = recorder();
    guard(
      'write',
      '/p',
      ok.cb,
      () => undefined,
      () => Promise.resolve([5]),
    );
    expect(ok.calls).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(ok.calls).toEqual([[5]]);
    const failed = recorder();
    const logs: string[] = [];
    guard(
      'write',
      '/p',
      failed.cb,
      (l) => logs.push(l),
      () => Promise.reject(new FsError('EINTR')),
    );
    await new Promise((r) => setImmediate(r));
    expect(failed.calls).toEqual([[-ERRNO.EINTR]]);
    expect(logs).toEqual([]);
  });
});
