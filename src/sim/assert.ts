/** Thrown when a programmer error (a broken invariant) is detected; never caught by the simulation. */
export class InvariantError extends Error {
  /** Stable code for callers that report it. */
  readonly code = 'PVLOCKFS_INVARIANT';
}

/** Crashes with an InvariantError when `cond` is false (programmer errors only). */
export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InvariantError(message);
}

/** Crashes with an InvariantError (for hot paths: the message is built only on failure). */
export function fail(message: string): never {
  throw new InvariantError(message);
}
