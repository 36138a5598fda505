// First of all: no inspector on SIGUSR1, no preload passed on, the engine's inlining budget
// (see each module).
import './no-inspector';
import './preload';
import './engine-flags';
import { OsError } from '../os/errors';
import {
  EXIT_PIPE_CLOSED,
  flushStdout,
  guardStdio,
  logLine,
  stdout,
  stdoutFailure,
} from '../os/stdio';
import { CommandName, commandHelp, commandNamed, COMMANDS, usage } from './commands';
import { UsageError, RuntimeError } from '../app/errors';

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
  return failed.code === EXIT_PIPE_CLOSED || code === 0 ? failed.code : code;
}

/** The spellings of help and version that are not command names. */
const ALIASES: Readonly<Record<string, CommandName>> = {
  '--help': 'help',
  '-h': 'help',
  '--version': 'version',
  '-V': 'version',
};

/** Runs one command (from the COMMANDS table); resolves to its exit status. */
async function dispatch(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined) {
      stdout().write(`${usage()}\n`);
      return 2;
    }
    const name = ALIASES[first] ?? commandNamed(first);
    if (name !== 'help' && (rest.includes('--help') || rest.includes('-h'))) {
      stdout().write(`${commandHelp(name)}\n`);
      return 0;
    }
    return await COMMANDS[name].run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      logLine(`pvlockfs: ${e.message}${e.hint ? "\nTry 'pvlockfs help'." : ''}`);
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
