import { afterAll, beforeAll, expect, it } from 'vitest';
import { WRITE_TABLE } from '../tables/write-table';
import { cat, cleanupAll, Daemon, describeFuse, py, RAW_WRITE as WRITE, run, sh } from './harness';

const U32 = (1n << 32n) - 1n;
// FUSE never delivers a zero-length write to the daemon (docs/debugfs.md §6); that row is unit-tested.
const ROWS = WRITE_TABLE.filter(([input]) => input !== '');

describeFuse('writing the knobs (docs/debugfs.md §2), both ABI profiles', () => {
  const d: Record<string, Daemon> = {};
  beforeAll(async () => {
    [d.modern, d['2.6.35']] = await Promise.all([
      Daemon.start(),
      Daemon.start(['--abi', '2.6.35']),
    ]);
  });
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  for (const abi of ['modern', '2.6.35'] as const) {
    it.each(ROWS)(`${abi}: write(2) of %j to timeout (u32)`, async (input, modern, old) => {
      const f = d[abi].path('kvm/spinlocks/timeout');
      await sh('echo 77 > "$1"', f);
      const r = await py(WRITE, f, Buffer.from(input, 'latin1').toString('hex'));
      const expected = abi === 'modern' ? modern : old;
      if (typeof expected === 'bigint') {
        expect(r.stdout).toBe(`${input.length}\n`);
        expect(await cat(f)).toBe(`${expected & U32}\n`);
      } else {
        expect(r.stdout).toBe(`${expected}\n`);
        expect(await cat(f)).toBe('77\n');
      }
    });

    // bash's printf writes line by line, so inputs with a newline before the end become several
    // write() calls (each parsed on its own, as debugfs does); those rows are covered above.
    it.each(ROWS.filter(([input]) => !/\n[\s\S]/.test(input)))(
      `${abi}: shell printf %j > timeout`,
      async (input, modern, old) => {
        const f = d[abi].path('kvm/spinlocks/timeout');
        await sh('echo 77 > "$1"', f);
        const r = await run('bash', ['-c', 'printf "%s" "$1" > "$2"', 'bash', input, f]);
        const expected = abi === 'modern' ? modern : old;
        if (typeof expected === 'bigint') {
          expect(r.code).toBe(0);
          expect(await cat(f)).toBe(`${expected & U32}\n`);
        } else {
          expect(r.code).toBe(1);
          expect(r.stderr).toMatch(
            expected === 'EINVAL' ? /Invalid argument/ : /Numerical result out of range/,
          );
          expect(await cat(f)).toBe('77\n');
        }
      },
    );
  }

  it('zero_stats is a u8: 256 stores 0 (no reset), 0x1ff stores 255 (read back while paused)', async () => {
    const m = d.modern;
    await sh('echo 0 > "$1"', m.path('pvlockfs/running'));
    await sh('echo 256 > "$1"', m.path('kvm/spinlocks/zero_stats'));
    expect(await cat(m.path('kvm/spinlocks/zero_stats'))).toBe('0\n');
    await sh('echo 0x1ff > "$1"', m.path('kvm/spinlocks/zero_stats'));
    expect(await cat(m.path('kvm/spinlocks/zero_stats'))).toBe('255\n');
    await sh('echo 1 > "$1"', m.path('pvlockfs/running'));
  });

  it('root: echo 1 > taken is "Permission denied"; echo 1 > histo_total is "Invalid argument"', async () => {
    const ro = await run('bash', [
      '-c',
      'echo 1 > "$1"',
      'bash',
      d.modern.path('kvm/spinlocks/taken'),
    ]);
    expect(ro.code).toBe(1);
    expect(ro.stderr).toMatch(/write error: Permission denied/);
    const arr = await run('bash', [
      '-c',
      'echo 1 > "$1"',
      'bash',
      d.modern.path('kvm/spinlocks/histo_total'),
    ]);
    expect(arr.code).toBe(1);
    expect(arr.stderr).toMatch(/write error: Invalid argument/);
    expect(
      (await run('bash', ['-c', 'echo 1 > "$1"', 'bash', d.modern.path('pvlockfs/config')])).stderr,
    ).toMatch(/Invalid argument/);
  });

  it('non-root, modern: cannot enter the 0700 root', async () => {
    const r = await run('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--',
      'cat',
      d.modern.path('kvm/spinlocks/timeout'),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    const ls = await run('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--',
      'ls',
      d.modern.mnt,
    ]);
    expect(ls.stderr).toMatch(/Permission denied/);
  });

  it('non-root, 2.6.35: can read every file, cannot write a knob', async () => {
    const as = ['--reuid=65534', '--regid=65534', '--clear-groups', '--'];
    const r = await run('setpriv', [
      ...as,
      'cat',
      d['2.6.35'].path('kvm/spinlocks/timeout'),
      d['2.6.35'].path('kvm/spinlocks/histo_total'),
    ]);
    expect(r.code).toBe(0);
    const w = await run('setpriv', [
      ...as,
      'sh',
      '-c',
      'echo 5 > "$1"',
      'sh',
      d['2.6.35'].path('kvm/spinlocks/timeout'),
    ]);
    expect(w.code).not.toBe(0);
    expect(w.stderr).toMatch(/Permission denied/);
  });
});

// What debugfs answers root for operations it does not have (README, refused-operations table).
const XATTR = `
import errno, os, sys
for op in (lambda p: os.setxattr(p, "user.x", b"1"), lambda p: os.getxattr(p, "user.x"), lambda p: os.removexattr(p, "user.x")):
    try:
        op(sys.argv[1]); print("ok")
    except OSError as e:
        print(e.errno)
print(len(os.listxattr(sys.argv[1])))
try:
    os.mkfifo(sys.argv[2]); print("ok")
except OSError as e:
    print(e.errno)
`;

describeFuse('operations debugfs refuses (or keeps) for root', () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await Daemon.start();
  });
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it.each([
    ['create (touch a new file)', 'touch "$1/kvm/spinlocks/new"', /Permission denied/],
    ['mkdir', 'mkdir "$1/kvm/new"', /Operation not permitted/],
    ['unlink', 'rm -f "$1/kvm/spinlocks/taken"', /Operation not permitted/],
    ['rmdir', 'rmdir "$1/pvlockfs"', /Operation not permitted/],
    ['rename', 'mv "$1/kvm/spinlocks/taken" "$1/kvm/spinlocks/t2"', /Operation not permitted/],
    ['link', 'ln "$1/kvm/spinlocks/taken" "$1/kvm/spinlocks/t2"', /Operation not permitted/],
    ['symlink', 'ln -s taken "$1/kvm/spinlocks/t2"', /Operation not permitted/],
  ])('%s is refused', async (_name, script, message) => {
    const r = await sh(script, d.mnt);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect((await run('ls', [d.path('kvm/spinlocks')])).stdout.split('\n')).toHaveLength(12);
  });

  it('xattrs: set/get/remove EOPNOTSUPP (95), list empty; mknod of a FIFO EPERM (1)', async () => {
    const r = await py(XATTR, d.path('kvm/spinlocks/taken'), d.path('kvm/spinlocks/node'));
    expect(r.stdout).toBe('95\n95\n95\n0\n1\n');
  });

  it('chmod, chown and touch succeed and are kept, as simple_setattr keeps them', async () => {
    const f = d.path('kvm/spinlocks/taken_slow');
    expect(
      (await sh('chmod 600 "$1" && chown 7:8 "$1" && touch -d @1000000000 "$1"', f)).code,
    ).toBe(0);
    expect((await run('stat', ['-c', '%a %u %g %X', f])).stdout).toBe('600 7 8 1000000000\n');
    // A mode change never makes a read-only attribute writable: its setter was never there.
    expect((await run('bash', ['-c', 'chmod 644 "$1"; echo 1 > "$1"', 'bash', f])).stderr).toMatch(
      /Permission denied/,
    );
  });
});
