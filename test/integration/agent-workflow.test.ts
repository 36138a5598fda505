import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeFuse, isMounted, ROOT, run, waitFor } from './harness';

/** The README's agent-test block, exactly as printed (comments and all). */
async function readmeBlock(): Promise<string> {
  const readme = await fsp.readFile(join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- agent-test:begin -->\n```sh\n([\s\S]*?)```\n<!-- agent-test:end -->/.exec(
    readme,
  );
  if (!block) throw new Error('README has no agent-test block');
  return block[1];
}

/**
 * Pastes text into an interactive bash on a pseudo-terminal, as a user pasting into a terminal
 * does (all of it at once, then `exit`), and returns everything the terminal showed.
 */
const PASTE = `
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.environ['PS1'] = '$ '
    os.execvp('bash', ['bash', '--norc', '--noprofile', '-i'])
os.write(fd, (sys.argv[1] + 'exit\\n').encode())
out = b''
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;

/** What a run of the block leaves to check and clean up: its directory and its daemon. */
interface Left {
  dir: string | null;
  pid: number | null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks the outputs of one run of the block (from the terminal or the script, one line each, in
 * order), that its daemon exited after `umount` and nothing stays mounted; records what to clean.
 */
async function expectWorkflow(lines: string[], headlessTaken: string, left: Left): Promise<void> {
  const banner = lines.find((l) => l.startsWith('pvlockfs: mounted at '));
  expect(banner, lines.join('\n')).toBeDefined();
  const where =
    / at (\S+)\/guest \(.*; pid (\d+), in the background: umount \S+ or kill \d+ unmounts$/.exec(
      banner!,
    );
  expect(where, banner).not.toBeNull();
  left.dir = where![1];
  left.pid = Number(where![2]);
  // `cat taken` after exactly 2 simulated seconds: what a headless run of 2 s prints.
  expect(lines).toContain(headlessTaken);
  // The incident shows: more slow paths after it than before.
  const slow = lines
    .filter((l) => l.startsWith('kvm_spinlock_taken_slow_total '))
    .map((l) => Number(l.split(' ')[1]));
  expect(slow).toHaveLength(2);
  expect(slow[1]).toBeGreaterThan(slow[0]);
  // The script replays the incident headless: the mount's taken_slow at 2.5 s, exactly.
  expect(lines).toContain(`kvm/spinlocks/taken_slow:${slow[1]}`);
  // `umount` ends the daemon (it watches its mount once a second).
  await waitFor(
    () => !alive(left.pid!),
    30_000,
    `the daemon (pid ${left.pid}) to exit after umount`,
  );
  expect(await isMounted(`${left.dir}/guest`)).toBe(false);
}

/** Ends what a failed run left behind: its daemon (by its pid), its mount, its directory. */
async function cleanUp(left: Left): Promise<void> {
  if (left.pid !== null && alive(left.pid)) {
    process.kill(left.pid, 'SIGTERM');
    await waitFor(() => !alive(left.pid!), 30_000, `the daemon (pid ${left.pid}) to exit`);
  }
  if (left.dir === null || !left.dir.startsWith(tmpdir())) return;
  if (await isMounted(`${left.dir}/guest`)) await run('umount', ['-l', `${left.dir}/guest`]);
  await fsp.rm(left.dir, { recursive: true, force: true });
}

describeFuse("the README's agent-test block, unedited", () => {
  let block: string;
  let headlessTaken: string;
  const runs: Left[] = [];
  beforeAll(async () => {
    block = await readmeBlock();
    const r = await run('scripts/pvlockfs', ['run', '--seed', '7', '--sim-time', '2s'], {
      cwd: ROOT,
      timeoutMs: 120_000,
    });
    headlessTaken = /^kvm\/spinlocks\/taken:(\d+)$/m.exec(r.stdout)![1];
    expect(Number(headlessTaken)).toBeGreaterThan(1000);
  }, 150_000);
  afterAll(async () => {
    for (const left of runs) await cleanUp(left);
  }, 120_000);

  it('pasted into an interactive bash on a terminal: every line works, in order, and the daemon is gone at the end', async () => {
    const left: Left = { dir: null, pid: null };
    runs.push(left);
    const r = await run('python3', ['-c', PASTE, block], { cwd: ROOT, timeoutMs: 150_000 });
    // What the terminal showed, without carriage returns and control sequences (bracketed paste).
    // eslint-disable-next-line no-control-regex
    const shown = r.stdout.replaceAll('\r', '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(r.code, shown).toBe(0);
    expect(shown).not.toMatch(/No such file|not found|Error|denied|Usage/);
    await expectWorkflow(shown.split('\n'), headlessTaken, left);
  }, 180_000);

  it('run as a script: the same outputs, and nothing else on standard output', async () => {
    const left: Left = { dir: null, pid: null };
    runs.push(left);
    const file = join(await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-block-')), 'agent-test.sh');
    await fsp.writeFile(file, block);
    const r = await run('bash', [file], { cwd: ROOT, timeoutMs: 150_000 });
    await fsp.rm(join(file, '..'), { recursive: true, force: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/No such file|not found|Error|denied|Usage/);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines, r.stdout).toHaveLength(5);
    expect(lines[0]).toMatch(/^pvlockfs: mounted at /);
    expect(lines[1]).toBe(headlessTaken);
    expect(lines[2]).toMatch(/^kvm_spinlock_taken_slow_total \d+$/);
    expect(lines[3]).toMatch(/^kvm_spinlock_taken_slow_total \d+$/);
    expect(lines[4]).toMatch(/^kvm\/spinlocks\/taken_slow:\d+$/);
    await expectWorkflow(lines, headlessTaken, left);
  }, 180_000);
});
