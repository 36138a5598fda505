import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, ROOT, run } from './harness';

/** The README's agent-test block, line by line (comments stripped), with /tmp/ moved to `dir`. */
async function workflowLines(dir: string): Promise<string[]> {
  const readme = await fsp.readFile(join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- agent-test:begin -->\n```sh\n([\s\S]*?)```\n<!-- agent-test:end -->/.exec(
    readme,
  );
  if (!block) throw new Error('README has no agent-test block');
  return block[1]
    .split('\n')
    .map((l) =>
      l
        .replace(/\s+#.*$/, '')
        .trim()
        .replaceAll('/tmp/', `${dir}/`),
    )
    .filter((l) => l !== '');
}

describeFuse("the README's agent-test workflow, command by command", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-workflow-'));
  });
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('every line runs and the numbers are the deterministic ones', async () => {
    const lines = await workflowLines(dir);
    // Line 1 mounts in the background: the harness runs it as a daemon it can wait for and stop.
    const mount = /^mkdir -p (\S+) && scripts\/pvlockfs mount (\S+) (.*) &$/.exec(lines[0]);
    expect(mount, lines[0]).not.toBeNull();
    await fsp.mkdir(mount![1], { recursive: true });
    const d = await Daemon.start(mount![3].split(' '), mount![2]);
    expect(lines[lines.length - 1]).toBe('kill %1');
    const outputs: string[] = [];
    for (const line of lines.slice(1, -1)) {
      const r = await run('sh', ['-c', line], { cwd: ROOT, timeoutMs: 60_000 });
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      outputs.push(r.stdout);
    }
    // `cat taken` after exactly 2 simulated seconds is what a headless run of 2 s prints.
    const headless = await run(
      'sh',
      ['-c', "scripts/pvlockfs run --seed 7 --sim-time 2s | sed -n 's|^kvm/spinlocks/taken:||p'"],
      { cwd: ROOT, timeoutMs: 60_000 },
    );
    expect(outputs[1]).toBe(headless.stdout);
    expect(Number(outputs[1])).toBeGreaterThan(1000);
    // The incident shows: more slow paths after it than before.
    const [before, after] = outputs[6]
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[1]));
    expect(after).toBeGreaterThan(before);
    // The script replays the incident headless: the mount's taken_slow at 2.5 s, exactly.
    expect(outputs[8]).toBe(
      `kvm/spinlocks/taken_slow:${(await cat(d.path('kvm/spinlocks/taken_slow'))).trim()}\n`,
    );
    // kill %1: SIGTERM to the mount.
    expect(await d.stop('SIGTERM')).toBe(0);
  });
});
