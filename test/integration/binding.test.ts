import { afterAll, expect, it } from 'vitest';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cat, cleanupAll, describeFuse, py, ROOT, run, withTrivial } from './harness';

// The FUSE binding pvlockfs builds (native/fuse-native.patch over fuse-native 2.2.6), seen through
// the benchmark's trivial daemon, whose /binding file says what the binding knows as it answers:
// "KIND PID UID GID MADE REUSED ENDED" (the last three: thread-locals made and reused, FUSE
// threads ended; "-" from fuse-native's own binding).

const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];

/** One read of /binding by `cat`, as `who` (setpriv options): cat's pid, and the fields read. */
async function readBinding(mnt: string, who: string[] = []): Promise<string[]> {
  // The shell says its pid, then becomes cat: the reader's pid is the one said.
  const script = 'echo $$; exec cat "$1"';
  const r = await run('setpriv', [...who, 'sh', '-c', script, 'sh', join(mnt, 'binding')]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split(/\s+/);
}

describeFuse('the patched FUSE binding', () => {
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it("tells each operation its caller's pid, uid and gid (root and nobody)", async () => {
    await withTrivial({}, async (mnt) => {
      const [pid, kind, cpid, uid, gid] = await readBinding(mnt);
      expect([kind, cpid, uid, gid]).toEqual(['patched', pid, '0', '0']);
      const [npid, , ncpid, nuid, ngid] = await readBinding(mnt, AS_NOBODY);
      expect([ncpid, nuid, ngid]).toEqual([npid, '65534', '65534']);
    });
  });

  it('reuses the handles of ended FUSE threads: thousands of threads, a bounded number made', async () => {
    await withTrivial({}, async (mnt) => {
      // Waves of 16 parallel readers until libfuse has ended at least 2,000 worker threads (it
      // ends a worker when more than 10 are idle): the stock binding leaks a handle for each.
      const waves = await py(
        `
import sys, threading
mnt = sys.argv[1]
def reader():
    for _ in range(200):
        with open(mnt + '/histo_total', 'rb') as f:
            f.read()
for wave in range(200):
    ts = [threading.Thread(target=reader) for _ in range(16)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    fields = open(mnt + '/binding').read().split()
    if int(fields[6]) >= 2000:
        break
print(wave + 1, ' '.join(fields[4:]))
`,
        mnt,
      );
      expect(waves.code, waves.stderr).toBe(0);
      const [count, made, reused, ended] = waves.stdout.trim().split(' ').map(Number);
      expect(ended, `threads ended after ${count} waves`).toBeGreaterThanOrEqual(2000);
      // Every thread started took made-or-reused locals; only a peak's worth were made.
      expect(made + reused).toBeGreaterThan(ended);
      expect(made).toBeLessThanOrEqual(200);
    });
  });

  it('PVLOCKFS_BINDING=stock loads fuse-native as shipped (no caller, no thread counts)', async () => {
    await withTrivial({ PVLOCKFS_BINDING: 'stock' }, async (mnt) => {
      expect(await cat(join(mnt, 'binding'))).toBe('stock 0 0 0 -\n');
      expect(await cat(join(mnt, 'histo_total'))).toMatch(/^(\d+ ){30}\d+\n$/);
    });
  });
});

describeFuse('scripts/build-binding where it cannot build', () => {
  it('says why in one line, exits 0, leaves a note and does not try again until the patch changes', async () => {
    // A package of its own: the script, the patch and a copy of fuse-native, on a PATH without
    // a C compiler.
    const base = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-nocc-'));
    try {
      for (const p of ['scripts/build-binding', 'native/fuse-native.patch'])
        await fsp.cp(join(ROOT, p), join(base, p), { recursive: true });
      await fsp.cp(
        join(ROOT, 'node_modules', 'fuse-native'),
        join(base, 'node_modules', 'fuse-native'),
        {
          recursive: true,
          filter: (src) => !src.includes('/build/') && !src.includes('/prebuilds/'),
        },
      );
      const bin = join(base, 'bin');
      await fsp.mkdir(bin);
      const tools = ['node', 'npm', 'bash', 'dirname', 'readlink', 'cp', 'mktemp', 'rm', 'mv'];
      for (const t of [...tools, 'touch', 'chmod', 'patch', 'make', 'python3', 'grep', 'tail']) {
        const where = await run('bash', ['-c', `command -v ${t}`]);
        await fsp.symlink(where.stdout.trim(), join(bin, t));
      }
      const build = () => run(join(base, 'scripts', 'build-binding'), [], { env: { PATH: bin } });
      const first = await build();
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toBe(
        "pvlockfs: cannot build the patched FUSE binding: no C compiler (cc): using fuse-native's prebuilt binding (files stay seekable, no caller pid: see docs/debugfs.md)\n",
      );
      const note = join(base, 'node_modules', '.pvlockfs-binding.unavailable');
      expect(await fsp.readFile(note, 'utf8')).toMatch(/no C compiler/);
      const entries = await fsp.readdir(join(base, 'node_modules'));
      expect(entries.sort()).toEqual(['.pvlockfs-binding.unavailable', 'fuse-native']);
      const again = await build();
      expect([again.code, again.stderr]).toEqual([0, '']);
      // A newer patch is tried again (and still cannot build here).
      const later = new Date(Date.now() + 5000);
      await fsp.utimes(join(base, 'native', 'fuse-native.patch'), later, later);
      expect((await build()).stderr).toMatch(/^pvlockfs: cannot build .*no C compiler/);
    } finally {
      await fsp.rm(base, { recursive: true, force: true });
    }
  });
});
