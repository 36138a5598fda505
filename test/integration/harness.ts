import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect } from 'vitest';

/** The project root and its launcher. */
export const ROOT = resolve(__dirname, '../..');
export const LAUNCHER = join(ROOT, 'scripts', 'pvlockfs');

/** Integration tests need /dev/fuse; without it they skip, and say so. */
export const HAS_FUSE = existsSync('/dev/fuse');
if (!HAS_FUSE)
  process.stderr.write('pvlockfs integration tests SKIPPED: /dev/fuse is absent on this machine\n');
/** `describe` that skips (visibly) when /dev/fuse is absent. */
export const describeFuse = HAS_FUSE ? describe : describe.skip;

/** Result of a child process. */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command (no shell) with a timeout; never throws for a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Ran> {
  return new Promise((res) => {
    const child = execFile(
      cmd,
      args,
      {
        timeout: opts.timeoutMs ?? 15_000,
        encoding: 'latin1',
        maxBuffer: 1 << 24,
        cwd: opts.cwd,
        env: opts.env ?? process.env,
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : null
          : 0;
        res({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/**
 * Asserts a mounted layout: the mount's top level is exactly `top`, `dir` lists exactly `files`
 * in order, and each file has its mode, size 0, one link and owner root (`ls -A`, `stat`).
 */
export async function expectLayout(
  d: Daemon,
  top: string,
  dir: string,
  files: readonly (readonly [string, string])[],
): Promise<void> {
  expect((await run('ls', ['-A', d.mnt])).stdout).toBe(top);
  expect((await run('ls', ['-A', d.path(dir)])).stdout).toBe(
    `${files.map(([n]) => n).join('\n')}\n`,
  );
  for (const [name, mode] of files) {
    expect((await run('stat', ['-c', '%a %s %h %U', d.path(`${dir}/${name}`)])).stdout, name).toBe(
      `${mode} 0 1 root\n`,
    );
  }
}

/** Runs a shell snippet; `$1`, `$2`… are `args`. */
export function sh(script: string, ...args: string[]): Promise<Ran> {
  return run('sh', ['-c', script, 'sh', ...args]);
}

/** Runs a Python snippet with arguments (for exact syscalls: pread, raw write(2), xattrs). */
export function py(script: string, ...args: string[]): Promise<Ran> {
  return run('python3', ['-c', script, ...args]);
}

/** One raw write(2) of the given hex bytes (python3 -c): prints the return value or the errno name. */
export const RAW_WRITE = `
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    print(os.write(fd, bytes.fromhex(sys.argv[2])))
except OSError as e:
    print(errno.errorcode[e.errno])
os.close(fd)
`;

/** `cat` of a file on the mount, from a child process. */
export async function cat(path: string): Promise<string> {
  const r = await run('cat', [path]);
  if (r.code !== 0) throw new Error(`cat ${path}: ${r.stderr}`);
  return r.stdout;
}

/** Whether `path` is in the mount table. */
export async function isMounted(path: string): Promise<boolean> {
  const text = await fsp.readFile('/proc/mounts', 'utf8');
  // The kernel writes space, tab, newline and backslash of a mount point as octal escapes.
  const unescape = (s: string): string =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .some((l) => l.split(' ')[1] !== undefined && unescape(l.split(' ')[1]) === path);
}

/** Polls `cond` every 20 ms until true or `timeoutMs` passes. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** How long `Daemon.stop` waits for the daemon to exit after its signal. */
const STOP_BOUND_MS = 60_000;

/** A pvlockfs daemon started as a child process on a fresh temporary mount point. */
export class Daemon {
  output = '';
  exitCode: number | null | undefined = undefined;
  private exited: Promise<number | null>;

  private constructor(
    readonly mnt: string,
    readonly proc: ChildProcess,
  ) {
    proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((res) =>
      proc.on('exit', (code, signal) => {
        if (signal) this.output += `\n[harness: daemon killed by ${signal}]`;
        res((this.exitCode = code));
      }),
    );
  }

  /** Mounts with the given options and waits (bounded) for the ready line. */
  static async start(
    args: string[] = [],
    mnt?: string,
    cwd?: string,
    launcher = LAUNCHER,
    env?: NodeJS.ProcessEnv,
  ): Promise<Daemon> {
    const dir = mnt ?? (await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-test-')));
    const proc = spawn(launcher, ['mount', dir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd,
      env: env ?? process.env,
    });
    const d = new Daemon(dir, proc);
    live.add(d);
    started.push(d.mnt);
    await waitFor(
      () => d.output.includes('mounted at') || d.exitCode !== undefined,
      120_000,
      `mount at ${dir}`,
    );
    if (!d.output.includes('mounted at')) throw new Error(`daemon failed to mount: ${d.output}`);
    return d;
  }

  /** Waits (bounded) for the daemon to exit by itself; its exit code. */
  async exit(timeoutMs: number, what: string): Promise<number | null> {
    await waitFor(() => this.exitCode !== undefined, timeoutMs, what);
    live.delete(this);
    return this.exitCode as number | null;
  }

  /** Path inside the mount. */
  path(rel: string): string {
    return join(this.mnt, rel);
  }

  /**
   * Sends a signal to this daemon's own pid and waits (bounded generously: a busy machine may
   * take long to run the unmount) for it to exit; on timeout it says what the daemon said.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.exitCode === undefined) this.proc.kill(signal);
    const code = await Promise.race([
      this.exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_BOUND_MS)),
    ]);
    if (code === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(
        `daemon at ${this.mnt} did not exit within ${STOP_BOUND_MS} ms of ${signal}; it said:\n${this.output}`,
      );
    }
    live.delete(this);
    return code;
  }

  /** Stops the daemon and makes sure nothing is left mounted, whatever state it is in. */
  async cleanup(): Promise<void> {
    if (this.exitCode === undefined)
      await this.stop('SIGTERM').catch(() => this.proc.kill('SIGKILL'));
    live.delete(this);
    if (await isMounted(this.mnt)) await run('umount', ['-l', this.mnt]);
    await fsp.rmdir(this.mnt).catch(() => undefined);
  }
}

const live = new Set<Daemon>();
const started: string[] = [];

/**
 * Stops every daemon this file started; returns the mount points still mounted afterwards, so
 * that `expect(await cleanupAll()).toEqual([])` fails the suite if a mount was left behind.
 */
export async function cleanupAll(): Promise<string[]> {
  for (const d of [...live]) await d.cleanup();
  const left: string[] = [];
  for (const m of started) if (await isMounted(m)) left.push(m);
  return left;
}

/** Installs a Debian package when its command is missing; returns why it could not, or null. */
export async function ensureCommand(command: string, pkg: string): Promise<string | null> {
  const has = async (): Promise<boolean> =>
    (await run('sh', ['-c', `command -v ${command}`])).code === 0;
  if (await has()) return null;
  // Test files run in parallel and may install at once: one apt at a time (dpkg's lock would
  // refuse the second), each waiting its turn on a lock file.
  const r = await run(
    'flock',
    [
      '-w',
      '600',
      existsSync('/run/lock')
        ? '/run/lock/pvlockfs-test-apt.lock'
        : join(tmpdir(), 'pvlockfs-test-apt.lock'),
      'sh',
      '-c',
      `command -v ${command} > /dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${pkg}) > /dev/null 2>&1`,
    ],
    { timeoutMs: 900_000 },
  );
  return (await has()) ? null : `package ${pkg} could not be installed (apt-get exit ${r.code})`;
}

/**
 * Runs a long-lived program (an agent) in its own process group until `done(stdout)` holds, then
 * ends the whole group by its id and waits for it. Fails, saying what was awaited, if the program
 * exits first or `timeoutMs` passes: never a fixed wall-clock window.
 */
export async function runUntil(
  cmd: string,
  args: string[],
  done: (out: string) => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  env?: NodeJS.ProcessEnv,
): Promise<Ran> {
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: env ?? process.env,
  });
  let stdout = '';
  let stderr = '';
  let code: number | null | undefined;
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString('latin1')));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('latin1')));
  const exited = new Promise<void>((res) => child.on('exit', (c) => ((code = c), res())));
  try {
    await waitFor(async () => code !== undefined || (await done(stdout)), timeoutMs, what);
    if (!(await done(stdout)))
      throw new Error(`${cmd} exited (${code}) before ${what}: ${stderr.slice(-2000)}`);
  } finally {
    if (code === undefined && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (code === undefined) process.kill(-child.pid, 'SIGKILL');
    }
  }
  return { code: code ?? null, stdout, stderr };
}

/**
 * Writes the 11 files of a kvm/spinlocks directory into `dir` (made if missing): plausible
 * counters, one histogram bucket (12) used, timeout 2048; `over` replaces any file's text.
 */
export async function writeSpinlocks(
  dir: string,
  over: Record<string, string> = {},
): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  const histo = `${Array.from({ length: 31 }, (_, i) => (i === 12 ? 5 : 0)).join(' ')}\n`;
  const files: Record<string, string> = {
    taken: '100\n',
    taken_slow: '5\n',
    released: '100\n',
    time_spinning: '2000\n',
    time_blocked: '9000\n',
    time_total: '3000\n',
    timeout: '2048\n',
    zero_stats: '0\n',
    histo_total: histo,
    histo_spinning: histo,
    histo_blocked: histo,
    ...over,
  };
  for (const [f, text] of Object.entries(files)) await fsp.writeFile(join(dir, f), text);
}

/**
 * Starts the benchmark's trivial fuse-native daemon (the launcher's environment, `env` added) on
 * a fresh mount point, runs `body`, then ends it by its pid: it must exit 0 and leave nothing
 * mounted.
 */
export async function withTrivial(
  env: NodeJS.ProcessEnv,
  body: (mnt: string, pid: number) => Promise<void>,
): Promise<void> {
  const mnt = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-binding-'));
  await fsp.chmod(mnt, 0o755);
  const proc = spawn(
    'bash',
    ['-c', '. "$1/scripts/env.sh" && exec node "$1/dist/tools/bench-trivial-main.js" "$2"'].concat([
      'bash',
      ROOT,
      mnt,
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  try {
    await waitFor(() => out.includes('mounted') || proc.exitCode !== null, 60_000, 'mounted');
    expect(out).toContain('mounted');
    await body(mnt, proc.pid as number);
    proc.kill('SIGTERM');
    expect(await exited, out).toBe(0);
    expect(await isMounted(mnt)).toBe(false);
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    if (await isMounted(mnt)) await run('umount', ['-l', mnt]);
    await fsp.rmdir(mnt).catch(() => undefined);
  }
}

/** A value between single quotes for a shell that sources it. */
export const shQuote = (v: string): string => `'${v.replace(/'/g, "'\\''")}'`;

/**
 * A scratch netdata tree for the recipe's charts.d module: `plugins.d/` (links to Debian's
 * charts.d.plugin and its include), `charts.d/kvm_spinlocks.chart.sh` (a link to the recipe) and
 * `etc/charts.d/kvm_spinlocks.conf` naming `spinlocks` (charts.d finds modules in ../charts.d
 * beside itself and their settings in $NETDATA_USER_CONFIG_DIR/charts.d).
 */
export async function chartsDTree(tree: string, spinlocks: string): Promise<void> {
  for (const sub of ['plugins.d', 'charts.d', 'etc/charts.d'])
    await fsp.mkdir(join(tree, sub), { recursive: true });
  const plugins = '/usr/lib/netdata/plugins.d';
  await fsp.symlink(join(plugins, 'charts.d.plugin'), join(tree, 'plugins.d', 'charts.d.plugin'));
  await fsp.symlink(
    join(plugins, 'loopsleepms.sh.inc'),
    join(tree, 'plugins.d', 'loopsleepms.sh.inc'),
  );
  await fsp.symlink(
    join(ROOT, 'docs', 'recipes', 'kvm_spinlocks.chart.sh'),
    join(tree, 'charts.d', 'kvm_spinlocks.chart.sh'),
  );
  await fsp.writeFile(
    join(tree, 'etc', 'charts.d', 'kvm_spinlocks.conf'),
    `kvm_spinlocks_dir=${shQuote(spinlocks)}\n`,
  );
}
