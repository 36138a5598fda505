import { FsError } from '../debugfs/errors';
import { createAttr, createDir, createText, DirNode } from '../debugfs/nodes';
import type { FaultAttr } from '../faults/attr';
import { FAULT_OPS, FaultOp } from '../faults/faults';

/* The files of pvlockfs/fault/: typed control files that refuse what they cannot take. */

/** A directory only root may enter. */
export function privateDir(name: string, parent: DirNode, nowMs: number): DirNode {
  const d = createDir(name, parent, nowMs);
  d.mode = 0o700;
  return d;
}

/** An unsigned attribute (a u64 as debugfs writes it: `kstrtoull`, then our range check). */
export function number(
  d: DirNode,
  name: string,
  get: () => number,
  set: (v: number) => void,
  nowMs: number,
): void {
  createAttr(
    name,
    0o600,
    d,
    64,
    () => BigInt(get()),
    (v) => {
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FsError('ERANGE', `${name} ${v}`);
      set(Number(v));
    },
    nowMs,
  );
}

/** A signed int (`debugfs_create_atomic_t`: reads `%d`, takes -1). */
export function signed(
  d: DirNode,
  name: string,
  get: () => number,
  set: (v: number) => void,
  nowMs: number,
): void {
  text(
    d,
    name,
    () => String(get()),
    (t) => {
      const m = /^\s*(-?[0-9]+)\s*$/.exec(t);
      const v = m === null ? NaN : Number(m[1]);
      if (!Number.isSafeInteger(v) || v < -1 || v > 0x7fffffff)
        throw new FsError('EINVAL', `${name} ${JSON.stringify(t)}`);
      set(v);
    },
    nowMs,
  );
}

/** A text control file: reads its value and a newline; a write sets it (or EINVAL, unchanged). */
export function text(
  d: DirNode,
  name: string,
  get: () => string,
  set: (t: string) => void,
  nowMs: number,
): void {
  createText(name, 0o600, d, () => `${get()}\n`, nowMs, set);
}

export function percent(v: number): number {
  return atMost(v, 100, 'probability');
}

export function atMost(v: number, max: number, name: string): number {
  if (v > max) throw new FsError('EINVAL', `${name} ${v} above ${max}`);
  return v;
}

export function boolValue(v: number): boolean {
  if (v > 1) throw new FsError('EINVAL', `hang ${v}: 0 or 1`);
  return v === 1;
}

/** `kstrtobool`: y/Y/1/on → true, n/N/0/off → false (its first characters decide). */
export function bool(t: string): boolean {
  const s = t.trim().toLowerCase();
  if (/^(y|1|on)/.test(s)) return true;
  if (/^(n|0|off)/.test(s)) return false;
  throw new FsError('EINVAL', `not a boolean: ${JSON.stringify(t)}`);
}

export function setTasks(a: FaultAttr, t: string): void {
  const words = t.split(/\s+/).filter((w) => w !== '');
  if (!words.every((w) => /^[0-9]{1,10}$/.test(w)))
    throw new FsError('EINVAL', `tasks ${JSON.stringify(t)}: pids`);
  a.tasks.clear();
  for (const w of words) a.tasks.add(Number(w));
}

export function parseOps(t: string): Set<FaultOp> {
  const words = t.split(/\s+/).filter((w) => w !== '');
  const ops = new Set<FaultOp>();
  for (const w of words) {
    if (!(FAULT_OPS as readonly string[]).includes(w))
      throw new FsError('EINVAL', `stall ops: ${w} is not one of ${FAULT_OPS.join(' ')}`);
    ops.add(w as FaultOp);
  }
  return ops;
}
