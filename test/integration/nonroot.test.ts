import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, run } from './harness';

const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];

/**
 * A root-owned copy of the built project that `nobody` may read and run but not write: what a
 * user other than the one who installed it sees. (The checkout itself may sit below a directory
 * only root can enter, as CI's clone does.)
 */
async function rootOwnedCopy(): Promise<string> {
  const base = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-nonroot-'));
  await fsp.chmod(base, 0o755);
  const copy = join(base, 'pvlockfs');
  await fsp.mkdir(join(copy, 'node_modules'), { recursive: true });
  // cp -a keeps the times, so the copy's build is as fresh as the checkout's.
  for (const p of [
    'scripts',
    'src',
    'dist',
    'package.json',
    'package-lock.json',
    'tsconfig.json',
  ]) {
    const r = await run('cp', ['-a', join(ROOT, p), join(copy, p)]);
    if (r.code !== 0) throw new Error(`cp ${p}: ${r.stderr}`);
  }
  for (const p of ['.package-lock.json', 'seedrandom']) {
    const r = await run('cp', ['-a', join(ROOT, 'node_modules', p), join(copy, 'node_modules', p)]);
    if (r.code !== 0) throw new Error(`cp node_modules/${p}: ${r.stderr}`);
  }
  await run('chmod', ['-R', 'go-w,a+rX', base]);
  return copy;
}

describe('read-only commands work for a user who cannot write the installation (hardening)', () => {
  let copy: string;
  beforeAll(async () => {
    copy = await rootOwnedCopy();
  });
  afterAll(async () => {
    await fsp.rm(join(copy, '..'), { recursive: true, force: true });
  });

  it.each([
    ['version', ['version'], /^pvlockfs \d+\.\d+\.\d+\n$/],
    ['help', ['help'], /^pvlockfs .*\nUsage:/s],
    ['run', ['run', '--sim-time', '5ms'], /^kvm\/spinlocks\/taken:\d+$/m],
  ])('%s as nobody: exit 0, no lock file, nothing written', async (_name, args, out) => {
    const r = await run('setpriv', [...AS_NOBODY, join(copy, 'scripts', 'pvlockfs'), ...args], {
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(out);
    expect(r.stderr).toBe('');
    await expect(fsp.access(join(copy, '.setup.lock'))).rejects.toThrow();
  });

  it('histo as nobody reads a histogram file', async () => {
    const file = join(copy, '..', 'histo_total');
    await fsp.writeFile(file, `${Array.from({ length: 31 }, (_, i) => i).join(' ')}\n`);
    await fsp.chmod(file, 0o644);
    const r = await run(
      'setpriv',
      [...AS_NOBODY, join(copy, 'scripts', 'pvlockfs'), 'histo', file],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ 30 .+ 30$/m); // the last bucket, its bar and its count
  });
});
