import { afterAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { cleanupAll, Daemon, describeFuse, ensureCommand, ROOT, run } from './harness';

// Each row of docs/debugfs.md's syscall table, made by a Python probe with the exact system call
// (test/integration/probes/syscalls.py) on a paused `--abi modern` mount: the answer of a Linux
// 6.1 debugfs where pvlockfs gives it, the documented one otherwise. Once with the patched FUSE
// binding (the normal case), once with fuse-native's own (PVLOCKFS_BINDING=stock, the fallback).

const PROBE = join(ROOT, 'test', 'integration', 'probes', 'syscalls.py');
const ZEROS = `copied '${Array(31).fill('0').join(' ')}\\n'`;
const TYPES = JSON.stringify({
  '.': 'DT_DIR',
  '..': 'DT_DIR',
  histo_blocked: 'DT_REG',
  histo_spinning: 'DT_REG',
  histo_total: 'DT_REG',
  released: 'DT_REG',
  taken: 'DT_REG',
  taken_slow: 'DT_REG',
  time_blocked: 'DT_REG',
  time_spinning: 'DT_REG',
  time_total: 'DT_REG',
  timeout: 'DT_REG',
  zero_stats: 'DT_REG',
})
  .replace(/":/g, '": ')
  .replace(/,"/g, ', "');

/** What the daemon answers itself, the same with either binding (kernel 6.1's answers). */
const DAEMON = {
  'getdents64 d_type': TYPES,
  'stat 256-byte name': 'ENAMETOOLONG',
  'stat 255-byte name': 'ENOENT',
  'fsync read fd': 'EINVAL',
  'fdatasync read fd': 'EINVAL',
  'fsync write fd': 'EINVAL',
  'fdatasync write fd': 'EINVAL',
  'fsync directory': 'ok',
  'fdatasync directory': 'ok',
  'pwrite @1 fresh': 'ESPIPE; value 1024',
  'pwrite @5 fresh': 'ESPIPE; value 1024',
  'pwrite @0 after write': 'ESPIPE; value 8',
  'O_APPEND writes': 'wrote 2, 2; value 9',
  // Kernel: size 10 (simple_setattr keeps it); pvlockfs keeps 0 (docs/debugfs.md §6).
  'truncate 10 then stat': 'size 0',
  'open O_DIRECT': 'EINVAL',
  'statfs f_flags': '0x102e',
  // What FUSE decides whatever the binding (documented, the kernel's answer beside each).
  'sendfile without offset': 'sent 0', // kernel: EINVAL
  'mmap private': 'mapped', // kernel: ENODEV
  'writev 1|2\\n': 'wrote 3; value 12', // kernel: one write per segment, stores 2
  'writev 5\\n|x': 'EINVAL; value 12', // kernel: stores 5
  'writev 6\\n|7\\n': 'EINVAL; value 12', // kernel: stores 7
  'lseek directory SEEK_END': 'offset 0', // kernel: EINVAL
  name_to_handle_at: 'handle', // kernel: EOPNOTSUPP
};

/** With the patched binding every file is opened non-seekable: the kernel's answers. */
const PATCHED = {
  ...DAEMON,
  'sendfile with offset': 'ESPIPE',
  'pread at own position': "ESPIPE; next read '24\\n'",
  'pwrite @0 fresh': 'ESPIPE; value 1024',
  'lseek file SEEK_SET': 'ESPIPE',
  'shutil.copyfile histo_total': ZEROS,
  'shutil.copyfile timeout': "copied '12\\n'",
};

/** With fuse-native's own binding: what docs/debugfs.md §6 says of it. */
const STOCK = {
  ...DAEMON,
  'sendfile with offset': 'sent 0',
  'pread at own position': "served '24\\n'; next read ESPIPE",
  'pwrite @0 fresh': 'wrote 2; value 4',
  'lseek file SEEK_SET': 'offset 0',
  'shutil.copyfile histo_total': "copied ''",
  'shutil.copyfile timeout': "copied ''",
};

async function probe(env?: NodeJS.ProcessEnv): Promise<{ rows: unknown; output: string }> {
  const d = await Daemon.start(['--abi', 'modern', '--paused'], undefined, undefined, undefined, {
    ...process.env,
    ...env,
  });
  try {
    const r = await run('python3', [PROBE, d.path('kvm/spinlocks')], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    return { rows: JSON.parse(r.stdout), output: d.output };
  } finally {
    expect(await d.stop()).toBe(0);
  }
}

describeFuse('the system calls of docs/debugfs.md, made one by one on a real mount', () => {
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it("with the patched binding: the kernel's answers (files non-seekable, shutil copies)", async () => {
    const { rows, output } = await probe();
    expect(rows).toEqual(PATCHED);
    expect(output).not.toMatch(/as shipped/);
  });

  it('with fuse-native as shipped (forced): the documented fallback, said in one line', async () => {
    const { rows, output } = await probe({ PVLOCKFS_BINDING: 'stock' });
    expect(rows).toEqual(STOCK);
    expect(output.match(/FUSE binding: fuse-native 2\.2\.6 as shipped.*$/gm)).toEqual([
      'FUSE binding: fuse-native 2.2.6 as shipped (PVLOCKFS_BINDING=stock): files stay seekable, see docs/debugfs.md §6',
    ]);
  });
});

describeFuse('find -type f on the mount', () => {
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it('lists the 11 files from the directory entries alone: no stat of any of them', async () => {
    expect(await ensureCommand('strace', 'strace'), 'strace must be installable').toBeNull();
    const d = await Daemon.start(['--abi', 'modern', '--paused']);
    const log = join(await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-strace-')), 'log');
    try {
      const dir = d.path('kvm/spinlocks');
      const traced = async (...test: string[]): Promise<{ files: string[]; stats: string[] }> => {
        const r = await run('strace', [
          '-f',
          '-o',
          log,
          '-e',
          'trace=%stat,%lstat,%fstat',
          'find',
          dir,
          ...test,
        ]);
        expect(r.code, r.stderr).toBe(0);
        const files = r.stdout.split('\n').filter(Boolean);
        const names = files.map((f) => f.slice(dir.length + 1));
        const calls = (await fsp.readFile(log, 'utf8')).split('\n');
        // A stat-family call that names one of the entries (find may stat the start directory).
        const stats = calls.filter((c) =>
          names.some((n) => c.includes(`"${n}"`) || c.includes(`/${n}"`)),
        );
        return { files, stats };
      };
      const typeOnly = await traced('-type', 'f');
      expect(typeOnly.files).toHaveLength(11);
      expect(typeOnly.stats).toEqual([]);
      // The control: a test that needs each file's size stats each of them, and the trace shows it.
      const sized = await traced('-type', 'f', '-size', '0');
      expect(sized.files).toHaveLength(11);
      expect(sized.stats.length).toBeGreaterThanOrEqual(11);
    } finally {
      await fsp.rm(join(log, '..'), { recursive: true, force: true });
      expect(await d.stop()).toBe(0);
    }
  });
});
