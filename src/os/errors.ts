/** The errno name (`ENOENT`, …) an operating-system error carries, or '' for anything else. */
export function errnoOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : '';
}

/** Why something failed, in one line: the errno name of a system error, else the message. */
export function why(e: unknown): string {
  const code = errnoOf(e);
  if (code !== '' && e instanceof OsError) return e.message;
  return code !== '' ? code : e instanceof Error ? e.message : String(e);
}

/** A refusal or failure at the operating system's edge: an errno name and a one-line reason. */
export class OsError extends Error {
  constructor(
    /** The errno name that best describes it (`EPERM`, `ENOTDIR`, …). */
    readonly code: string,
    message: string,
    /** Whether it happened creating something (a directory that could not be made). */
    readonly creating = false,
  ) {
    super(message);
  }

  /** Wraps a system error, naming `what` it happened to. */
  static from(e: unknown, what: string): OsError {
    if (e instanceof OsError) return e;
    const code = errnoOf(e) || 'EIO';
    return new OsError(code, `${what}: ${code}`);
  }
}
