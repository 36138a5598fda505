// First of all: no inspector on SIGUSR1, no preload passed on, the engine's inlining budget
// (see each module).
import './no-inspector';
import './preload';
import './engine-flags';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OsError } from '../os/errors';
import { flushStdout, guardStdio, logLine, stderr, stdout, stdoutFailure } from '../os/stdio';
import { UsageError, RuntimeError } from '../app/errors';
import { parseArgv } from './args';
import { optionHelp, parseOptions } from './options';
import { progressReporter } from './progress';
import { runCommand } from './run';
import { EXPERIMENT_HELP } from './experiment';

const USAGE = `pvlockfs — a KVM guest's debugfs kvm/spinlocks/, live over FUSE, fed by a deterministic
simulation of lock-holder preemption on an overcommitted host.

Usage:
  pvlockfs mount [MOUNTPOINT] [options]   mount the running guest (default ./mount); Ctrl-C unmounts
  pvlockfs run [options]                  simulate headless and print the files (or --json)
  pvlockfs experiment [options]           reproduce the RFC's results table (see below)
  pvlockfs top [DIR]                      live view of DIR's kvm/ or xen/spinlocks (default ./mount); q quits
  pvlockfs histo FILE [--svg OUT]         one histogram file as labelled text bars, or an SVG
  pvlockfs help                           this text
  pvlockfs version                        the version (also --version)

Options for run:
${optionHelp('run')}

Options for mount (besides the simulation options above, except --sim-time/--work/--json):
${optionHelp('mount')
  .split('\n')
  .filter((l) => /--(abi|speed|debug|paused|max-open-files|trace-dir)/.test(l))
  .join('\n')}

Options for experiment:
${EXPERIMENT_HELP}

Exit status: 0 success, 1 runtime failure, 2 bad usage.`;

/** The package's version, from its package.json (dist/cli → the project's root). */
function version(): string {
  return (
    JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  guardStdio();
  const code = await dispatch(argv);
  // A daemon's standard output carries diagnostics only: what could not be written was dropped.
  if (argv[0] === 'mount') return code;
  // The output is written when the system has taken it; one it could not take decides the exit
  // status: a reader that went away (`| head`) ends the command quietly, a full disk is an error.
  await flushStdout();
  const failed = stdoutFailure();
  if (failed === null) return code;
  if (failed.message !== '') logLine(failed.message);
  return code === 0 ? failed.code : code;
}

/** Runs one command; resolves to its exit status. */
async function dispatch(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const out = (s: string): void => stdout().write(s);
  if (rest.includes('--help') || rest.includes('-h')) {
    out(`${USAGE}\n`);
    return 0;
  }
  try {
    switch (command) {
      case 'run':
        return await runCommand(
          parseOptions('run', rest),
          out,
          progressReporter('run', stderr(), 5000, undefined, 'simulated s'),
        );
      case 'experiment': {
        const { experimentCommand, parseExperiment } = await import('./experiment');
        return await experimentCommand(parseExperiment(rest));
      }
      case 'top': {
        const { topCommand } = await import('./top');
        const [dir] = parseArgv('top', [], { name: 'directory', min: 0, max: 1 }, rest, {});
        return await topCommand(dir ?? './mount');
      }
      case 'histo': {
        const { histoCommand } = await import('./histo');
        return await histoCommand(rest);
      }
      case 'mount': {
        const { mountCommand } = await import('./mount');
        return await mountCommand(parseOptions('mount', rest));
      }
      case 'version':
      case '--version':
      case '-V':
        out(`pvlockfs ${version()}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(
          `unknown command '${command}' (expected mount, run, experiment, top, histo, help or version)`,
        );
    }
  } catch (e) {
    if (e instanceof UsageError) {
      logLine(`pvlockfs: ${e.message}\nTry 'pvlockfs help'.`);
      return 2;
    }
    if (e instanceof RuntimeError || e instanceof OsError) {
      logLine(`pvlockfs: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // A FUSE mount that was torn down from outside can leave fuse-native's handle holding the
      // event loop open; once the command is done, exit regardless (after output is flushed).
      setTimeout(() => process.exit(code), 500).unref();
    },
    (e: unknown) => {
      logLine(
        `pvlockfs: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
      process.exitCode = 1;
      setTimeout(() => process.exit(1), 500).unref();
    },
  );
}
