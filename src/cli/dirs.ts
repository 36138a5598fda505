import { promises as fsp } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { errnoOf, RuntimeError, UsageError } from './errors';

/** A system error's message without the syscall noise, for one-line reports. */
export function why(e: unknown): string {
  const code = errnoOf(e);
  return code !== '' ? code : e instanceof Error ? e.message : String(e);
}

/**
 * Makes `dir` and any missing parents, one level at a time: Node's recursive mkdir never returns
 * on a path below /proc. `label` starts every message (`--out DIR`, `mount point DIR`). A level
 * that exists and is not a directory is a usage error; one that cannot be made a runtime error.
 * Returns the absolute path.
 */
export async function makeDirs(dir: string, label: string): Promise<string> {
  const abs = resolve(dir);
  let cur: string = sep;
  for (const part of abs.split(sep).filter(Boolean)) {
    cur = join(cur, part);
    try {
      await fsp.mkdir(cur);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST')
        throw new RuntimeError(`${label}: cannot create ${cur} (${why(e)})`);
      const st = await fsp.stat(cur);
      if (!st.isDirectory()) throw new UsageError(`${label}: ${cur} exists and is not a directory`);
    }
  }
  return abs;
}
