import { createHash } from 'node:crypto';
import {
  constants as fsc,
  closeSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
} from 'node:fs';
import { readdirSync as readdirPlain, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoOf } from '../../os/errors';
import { openPinnedDir, PinnedDir } from '../../os/dir';
import { OutFile } from '../../os/out-file';
import { shownPath } from '../../os/shown';
import type { RunResult, RunSpec } from '../../experiment/run';
import { RefusalError, RuntimeError, UsageError } from '../errors';

/**
 * A plan: an experiment written as numbered, independent cells (one run each) into a directory a
 * cluster's nodes share, run anywhere by index (`--cell I`, or the array index a scheduler gives),
 * and collected into the table a local run prints. Every file is written whole (a temporary name,
 * then a rename) relative to the directory opened once; a cell's result names its plan, so a
 * result from another plan or build is never collected.
 */

/** The plan file's format; a plan of another format is refused. */
export const PLAN_FORMAT = 1;
const PLAN_FILE = 'plan.json';

/** What a plan directory holds. */
export interface Plan {
  pvlockfs_plan: number;
  /** The pvlockfs version and build (a hash of its compiled code) that wrote it. */
  version: string;
  build: string;
  /** Which table, and the options that shape it (what collecting needs to finish it). */
  table: string;
  request: Record<string, unknown>;
  /** The runs, by cell index. */
  cells: RunSpec[];
  /** A hash of all of the above: each cell's result carries it. */
  id: string;
}

/** A cell's result file. */
interface CellFile {
  plan: string;
  cell: number;
  wall_ms: number;
  result: RunResult;
}

/** The name of cell `i`'s result. */
export const cellName = (i: number): string => `cell-${String(i).padStart(6, '0')}.json`;

let buildCache: string | null = null;

/** A hash of this build's compiled code (every .js under dist, in name order). */
export function buildId(distDir = join(__dirname, '..', '..')): string {
  if (buildCache !== null) return buildCache;
  const h = createHash('sha256');
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirPlain(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    )) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, `${rel}${e.name}/`);
      else if (e.name.endsWith('.js')) {
        h.update(`${rel}${e.name}\0`);
        h.update(readFileSync(p));
      }
    }
  };
  walk(distDir, '');
  buildCache = h.digest('hex').slice(0, 16);
  return buildCache;
}

/** The plan's id: a hash of everything but the id. */
function planId(p: Omit<Plan, 'id'>): string {
  return createHash('sha256').update(JSON.stringify(p)).digest('hex').slice(0, 16);
}

function why(e: unknown): string {
  return errnoOf(e) || (e instanceof Error ? e.message : String(e));
}

/** Opens (making it and its parents) the plan directory `path`; `flag` names the option. */
function openDir(path: string, flag: string, create: boolean): PinnedDir {
  try {
    return openPinnedDir(path, { create });
  } catch (e) {
    const words: Record<string, string> = {
      ENOENT: 'no such directory',
      ENOTDIR: 'not a directory (or a part of its path is not)',
      EACCES: 'permission denied',
      EROFS: 'EROFS (a read-only filesystem)',
    };
    const message = `${flag} ${shownPath(path)}: ${words[errnoOf(e)] ?? why(e)}`;
    throw errnoOf(e) === 'ENOTDIR' || errnoOf(e) === 'ENOENT'
      ? new RefusalError(message)
      : new RuntimeError(message);
  }
}

/** Reads the regular file `name` in `dir` without following a symlink (null if absent). */
function readInDir(dir: PinnedDir, name: string, max: number): string | null {
  let fd: number;
  try {
    fd = openSync(dir.at(name), fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return null;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${name} is not a regular file`);
    if (st.size > max) throw new Error(`${name} is larger than ${max} bytes`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Whether `name` exists in `dir` (as anything, a symlink included). */
function exists(dir: PinnedDir, name: string): boolean {
  try {
    lstatSync(dir.at(name));
    return true;
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return false;
    throw e;
  }
}

/** Writes `text` as `name` in `dir`, whole or not at all. */
function writeWhole(dir: PinnedDir, name: string, text: string, label: string): void {
  const f = OutFile.inDir(dir, name, label);
  f.write(text);
  f.commit();
}

/**
 * Writes a plan of `cells` into `path` (made if missing). A directory that already holds a plan
 * is refused (a plan is never overwritten under cells that may be running).
 */
export function writePlan(
  path: string,
  table: string,
  request: Record<string, unknown>,
  cells: RunSpec[],
  version: string,
): Plan {
  const dir = openDir(path, '--plan', true);
  try {
    if (exists(dir, PLAN_FILE))
      throw new RefusalError(
        `--plan ${shownPath(path)}: it already holds a plan (collect it, or give a new directory)`,
      );
    const body = { pvlockfs_plan: PLAN_FORMAT, version, build: buildId(), table, request, cells };
    const plan: Plan = { ...body, id: planId(body) };
    try {
      writeWhole(dir, PLAN_FILE, `${JSON.stringify(plan)}\n`, `--plan ${shownPath(path)}`);
    } catch (e) {
      throw new RuntimeError(`--plan ${shownPath(path)}: cannot write the plan (${why(e)})`);
    }
    return plan;
  } catch (e) {
    if (e instanceof UsageError || e instanceof RuntimeError) throw e;
    throw new RuntimeError(`--plan ${shownPath(path)}: ${why(e)}`);
  } finally {
    dir.close();
  }
}

/** A plan directory opened for running cells or collecting: the plan, checked against this build. */
export class PlanDir {
  private constructor(
    readonly dir: PinnedDir,
    readonly plan: Plan,
    readonly label: string,
  ) {}

  /** Opens the plan in `path`; refuses one of another format, version or build. */
  static open(path: string, flag: string, version: string): PlanDir {
    const label = `${flag} ${shownPath(path)}`;
    const dir = openDir(path, flag, false);
    try {
      let text: string | null;
      try {
        text = readInDir(dir, PLAN_FILE, 1 << 30);
      } catch (e) {
        throw new RuntimeError(`${label}: cannot read ${PLAN_FILE} (${why(e)})`);
      }
      if (text === null)
        throw new RefusalError(`${label}: no ${PLAN_FILE} there (make one with --plan)`);
      let plan: Plan;
      try {
        plan = JSON.parse(text) as Plan;
      } catch {
        throw new RefusalError(`${label}: ${PLAN_FILE} is not a plan (not JSON)`);
      }
      if (plan.pvlockfs_plan !== PLAN_FORMAT || !Array.isArray(plan.cells))
        throw new RefusalError(`${label}: ${PLAN_FILE} is not a plan of format ${PLAN_FORMAT}`);
      if (plan.version !== version || plan.build !== buildId())
        throw new RefusalError(
          `${label}: the plan was made by pvlockfs ${shownPath(String(plan.version))} (build ${shownPath(String(plan.build))}); this is ${version} (build ${buildId()}): run and collect it with the pvlockfs that made it`,
        );
      return new PlanDir(dir, plan, label);
    } catch (e) {
      dir.close();
      throw e;
    }
  }

  /** How many cells the plan has. */
  get size(): number {
    return this.plan.cells.length;
  }

  /** Refuses a cell index outside the plan. */
  check(i: number, flag: string): void {
    if (!(Number.isInteger(i) && i >= 0 && i < this.size))
      throw new RefusalError(
        `${flag}: ${i} is not a cell of this plan (it has ${this.size}: 0–${this.size - 1})`,
      );
  }

  /** Writes cell `i`'s result (whole, or nothing). */
  writeCell(i: number, result: RunResult, wallMs: number): void {
    const body: CellFile = { plan: this.plan.id, cell: i, wall_ms: wallMs, result };
    try {
      writeWhole(this.dir, cellName(i), `${JSON.stringify(body)}\n`, this.label);
    } catch (e) {
      throw new RuntimeError(`${this.label}: cannot write ${cellName(i)} (${why(e)})`);
    }
  }

  /**
   * Every cell's result, in cell order, and the cells without one (absent, unreadable, or from
   * another plan); the sum of the cells' wall times.
   */
  results(): { results: (RunResult | null)[]; missing: number[]; wallMs: number } {
    const present = new Set(readdirSync(this.dir.self).filter((n) => /^cell-\d{6}\.json$/.test(n)));
    const results: (RunResult | null)[] = [];
    const missing: number[] = [];
    let wallMs = 0;
    for (let i = 0; i < this.size; i++) {
      let r: RunResult | null = null;
      if (present.has(cellName(i))) {
        try {
          const c = JSON.parse(readInDir(this.dir, cellName(i), 1 << 30) ?? 'null') as CellFile;
          if (c !== null && c.plan === this.plan.id && c.cell === i) {
            r = c.result;
            wallMs += c.wall_ms;
          }
        } catch {
          r = null;
        }
      }
      if (r === null) missing.push(i);
      results.push(r);
    }
    return { results, missing, wallMs };
  }

  close(): void {
    this.dir.close();
  }
}
