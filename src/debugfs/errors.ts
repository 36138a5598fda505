/** Linux errno values the filesystem answers with (x86_64 numbering). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOTEMPTY: 39,
  ENODATA: 61,
  EOPNOTSUPP: 95,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ESTALE: 116,
  ECANCELED: 125,
} as const;

/** Name of an errno in `ERRNO`. */
export type ErrnoName = keyof typeof ERRNO;

/** An operating error: the errno a syscall on the mount returns. */
export class FsError extends Error {
  /** Creates the error; `detail` is for logs only. */
  constructor(
    readonly code: ErrnoName,
    detail?: string,
  ) {
    super(detail ? `${code}: ${detail}` : code);
  }

  /** Positive errno number. */
  get errno(): number {
    return ERRNO[this.code];
  }
}
