import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { logLine, sayLine } from '../os/stdio';
import { PRELOADED_LIB } from './preload';

/** The environment variable that tells a daemon it was started by `mount --background`. */
export const DETACHED_ENV = 'PVLOCKFS_DETACHED';

/** Whether this daemon was started by `mount --background` (read once; not passed on). */
export function startedDetached(): boolean {
  const detached = process.env[DETACHED_ENV] === '1';
  delete process.env[DETACHED_ENV];
  return detached;
}

/**
 * `pvlockfs mount … --background`: starts the daemon as a process of its own session (the
 * terminal's Ctrl-C and hang-up do not reach it), waits until it is mounted, prints its ready line
 * (which names its pid) and returns 0, leaving it running; `umount DIR` or `kill PID` unmounts it.
 * When the daemon fails first, its error has been shown on standard error and its exit status is
 * returned. A SIGINT or SIGTERM while waiting is passed on to it.
 */
export function mountInBackground(argv: readonly string[]): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, [DETACHED_ENV]: '1' };
  if (PRELOADED_LIB !== undefined) {
    env.LD_PRELOAD = [PRELOADED_LIB, env.LD_PRELOAD].filter((p) => p).join(':');
    env.PVLOCKFS_PRELOADED = PRELOADED_LIB;
  }
  const child = spawn(
    process.execPath,
    [process.argv[1], 'mount', ...argv.filter((a) => a !== '--background')],
    { detached: true, stdio: ['ignore', 'pipe', 'inherit'], env },
  );
  const pass = (sig: NodeJS.Signals): void => void child.kill(sig);
  process.on('SIGINT', pass);
  process.on('SIGTERM', pass);
  return new Promise((resolve) => {
    let ready = false;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (ready) return;
      sayLine(line);
      if (!line.startsWith('pvlockfs: mounted at ')) return;
      ready = true;
      // The daemon goes on alone: its later lines (it says when it unmounts) are not waited for.
      lines.close();
      child.stdout.destroy();
      child.unref();
      resolve(0);
    });
    child.on('error', (e) => {
      logLine(`pvlockfs: cannot start the daemon: ${e.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      if (ready) return;
      if (signal !== null) logLine(`pvlockfs: the daemon was ended by ${signal} before it mounted`);
      resolve(code ?? 1);
    });
  });
}
