/** A bad command line: printed with the usage hint, exit status 2. */
export class UsageError extends Error {
  readonly code = 'PVLOCKFS_USAGE';
  /** Whether the usage hint follows (not when the message itself says what to do). */
  readonly hint: boolean = true;
}

/** A refusal of a well-formed command (a plan of another build, a cell it does not have): one line, exit 2. */
export class RefusalError extends UsageError {
  override readonly hint = false;
}

/** A failure at run time (mountpoint, FUSE, permissions): printed, exit status 1. */
export class RuntimeError extends Error {
  readonly code = 'PVLOCKFS_RUNTIME';
}

/** The errno name (`ENOENT`, …) an operating-system error carries, or '' for anything else. */
export function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? '';
}
