import { HISTO_BUCKETS } from '../sim/stats';
import { readSmallFile } from '../os/small-file';
import { shownPath } from '../os/shown';
import { why } from '../os/errors';
import { RuntimeError } from './errors';

/** Parses a u32-array file's text: 31 numbers separated by single spaces. */
export function parseHisto(text: string, path: string): number[] {
  const parts = text.trim().split(' ');
  if (parts.length !== HISTO_BUCKETS || parts.some((p) => !/^\d+$/.test(p))) {
    throw new RuntimeError(
      `${shownPath(path)} is not a ${HISTO_BUCKETS}-bucket histogram (expected ${HISTO_BUCKETS} numbers separated by spaces)`,
    );
  }
  return parts.map(Number);
}

/** Reads and parses one histogram file (a regular file, at most 64 KiB). */
export async function readHisto(path: string): Promise<number[]> {
  let text: string;
  try {
    text = await readSmallFile(path);
  } catch (e) {
    throw new RuntimeError(`cannot read ${shownPath(path)}: ${why(e)}`);
  }
  return parseHisto(text, path);
}
