/** Options both `run` and `mount` take. */
export const BOTH = ['run', 'mount'] as const;

/** Where `--overcommit`'s factor waits until every option is read (see `finish` in options.ts). */
export const overcommitSeen = Symbol('overcommit');
