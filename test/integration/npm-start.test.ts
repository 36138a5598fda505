import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cat, describeFuse, isMounted, ROOT, waitFor } from './harness';

describeFuse('npm start', () => {
  const mnt = join(ROOT, 'mount');
  let npm: ReturnType<typeof spawn> | null = null;
  afterAll(async () => {
    // A failed test still ends what it started, by its pid.
    if (npm !== null && npm.exitCode === null && npm.signalCode === null) npm.kill('SIGTERM');
    if (await isMounted(mnt)) {
      const um = spawn('umount', ['-l', mnt]);
      await new Promise((r) => um.on('exit', r));
    }
  });

  it("mounts the default guest at ./mount (its .gitkeep and all), and SIGINT to npm's own pid unmounts it", async () => {
    expect(await isMounted(mnt), `${mnt} is mounted already (an npm start running?)`).toBe(false);
    const child = spawn('npm', ['start'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    npm = child;
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    let ended = false;
    const exited = new Promise<number | null>((r) =>
      child.on('exit', (code) => {
        ended = true;
        r(code);
      }),
    );
    await waitFor(
      () => ended || out.includes('pvlockfs: mounted at'),
      240_000,
      'npm start to mount',
    );
    expect(ended, out).toBe(false);
    expect(out).toContain(`pvlockfs: mounted at ${mnt} (`);
    expect(Number(await cat(join(mnt, 'kvm/spinlocks/timeout')))).toBe(1024);
    // npm passes SIGINT on to the script, which is the daemon itself (exec: no shell between).
    child.kill('SIGINT');
    expect(await exited, out).toBe(0);
    expect(out).toContain(`pvlockfs: SIGINT: unmounted ${mnt}`);
    expect(await isMounted(mnt)).toBe(false);
    expect(await fsp.readdir(mnt)).toEqual(['.gitkeep']);
  }, 300_000);
});
