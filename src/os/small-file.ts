import { constants as fsc, promises as fsp } from 'node:fs';
import { OsError } from './errors';
import { shownPath } from './shown';

/** The most a statistics file can hold: a 31-bucket u32 array is at most 341 bytes; this is ample. */
export const SMALL_FILE_MAX = 64 * 1024;

/**
 * Reads a debugfs-style file (size 0 in stat, so read until EOF) as latin1. Only a regular file
 * is read: it is opened without blocking (a FIFO given by mistake cannot hang the command until
 * a writer comes) and refused if it is anything else; and one longer than `max` bytes is refused
 * (`/dev/zero` or a large file given by mistake costs 64 KiB, not the machine's memory). Returns
 * the text and whether other users may read the file (a message may then quote it).
 */
export async function readSmallFileWithMode(
  path: string,
  max = SMALL_FILE_MAX,
): Promise<{ text: string; othersRead: boolean }> {
  const fh = await fsp.open(path, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new OsError('EINVAL', `${shownPath(path)} is not a regular file`);
    const buf = Buffer.alloc(max + 1);
    let len = 0;
    while (len <= max) {
      const { bytesRead } = await fh.read(buf, len, buf.length - len, null);
      if (bytesRead === 0)
        return { text: buf.toString('latin1', 0, len), othersRead: (st.mode & 0o004) !== 0 };
      len += bytesRead;
    }
    throw new OsError(
      'EFBIG',
      `${shownPath(path)} is longer than ${max} bytes: not a statistics file`,
    );
  } finally {
    await fh.close();
  }
}

/** `readSmallFileWithMode`'s text alone. */
export async function readSmallFile(path: string, max = SMALL_FILE_MAX): Promise<string> {
  return (await readSmallFileWithMode(path, max)).text;
}
