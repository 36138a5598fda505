import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, LAUNCHER, run, waitFor } from './harness';

describeFuse('pvlockfs top on a pvlockfs mount, and on a mount of several guests', () => {
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
  });

  it('shows the simulated time, the hogs and the spinning on preempted holders per simulated second, from pvlockfs/', async () => {
    const d = await Daemon.start(['--paused', '--lock', 'ticket', '--overcommit', '3']);
    const advance = (ns: number): Promise<void> =>
      fsp.writeFile(d.path('pvlockfs/advance_ns'), `${ns}\n`);
    await advance(1e9);
    const h1 = Number(await cat(d.path('pvlockfs/holder_preempted_ns')));
    expect(h1).toBeGreaterThan(0);
    const top = spawn(LAUNCHER, ['top', d.mnt], { stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    top.stdout.on('data', (b: Buffer) => (screen += b.toString()));
    const exited = new Promise<number | null>((r) => top.on('close', (code) => r(code)));
    try {
      // Paused: no simulated time passes between two readings, so there is no rate.
      await waitFor(
        () => screen.includes('simulated 1.0 s  hogs 8  spinning on preempted holders: —'),
        60_000,
        `a frame of the paused guest (top showed: ${screen.slice(-400)})`,
      );
      await advance(1e9);
      const h2 = Number(await cat(d.path('pvlockfs/holder_preempted_ns')));
      const rate = (((h2 - h1) / 1e9) * 1000).toFixed(1);
      // The frame whose interval holds the step: its waste over its simulated second.
      await waitFor(
        () =>
          screen.includes(
            `simulated 2.0 s  hogs 8  spinning on preempted holders: ${rate} ms per sim s`,
          ),
        60_000,
        `a frame with ${rate} ms per sim s (top showed: ${screen.slice(-400)})`,
      );
      expect(Number(rate)).toBeGreaterThan(10);
    } finally {
      top.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(await d.stop()).toBe(0);
  }, 180_000);

  it("names each guest's layout in the ready line, and top on the host's root names the guests", async () => {
    const d = await Daemon.start([
      '--paused',
      ...['--guest', 'web:vcpus=2', '--guest', 'db:vcpus=2,lock=pv-qspinlock'],
    ]);
    expect(d.output).toMatch(
      /guests web \(pv-yield, 2 vCPUs, layout kvm-2010\), db \(pv-qspinlock, 2 vCPUs, layout qlockstat\) on 4 pCPUs, 4 hogs, pinning B, abi modern, speed 1,/,
    );
    const r = await run(LAUNCHER, ['top', d.mnt], { timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `pvlockfs: ${d.mnt} is the root of several guests (web, db): give one, e.g. pvlockfs top ${d.mnt}/web\n`,
    );
    expect(await d.stop()).toBe(0);
  }, 180_000);
});
