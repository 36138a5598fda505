import { promises as fsp } from 'node:fs';
import { RuntimeError } from './errors';

/** The most a statistics file can hold: a 31-bucket u32 array is at most 341 bytes; this is ample. */
export const SMALL_FILE_MAX = 64 * 1024;

/**
 * Reads a debugfs-style file (size 0 in stat, so read until EOF) as latin1, refusing one longer
 * than `max` bytes: `/dev/zero` or a large file given by mistake costs 64 KiB, not the machine's
 * memory.
 */
export async function readSmallFile(path: string, max = SMALL_FILE_MAX): Promise<string> {
  const fh = await fsp.open(path, 'r');
  try {
    const buf = Buffer.alloc(max + 1);
    let len = 0;
    while (len <= max) {
      const { bytesRead } = await fh.read(buf, len, buf.length - len, null);
      if (bytesRead === 0) return buf.toString('latin1', 0, len);
      len += bytesRead;
    }
    throw new RuntimeError(`${path} is longer than ${max} bytes: not a statistics file`);
  } finally {
    await fh.close();
  }
}
