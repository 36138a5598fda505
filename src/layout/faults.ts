import { FsError } from '../debugfs/errors';
import { createAttr, createDir, createText, DirNode } from '../debugfs/nodes';
import { FaultAttr } from '../faults/attr';
import { CounterEvent, CounterFaults, parseCounterEvent } from './counter-faults';
import {
  FailCapability,
  FAULT_OPS,
  FaultOp,
  Faults,
  errnoName,
  parseErrno,
} from '../faults/faults';

/**
 * `pvlockfs/fault/`: the kernel's fault-injection vocabulary (one directory per capability,
 * `fail_open` … `fail_readdir` and `stall`, each with `probability`, `interval`, `times`, `space`,
 * `verbose`, `task-filter`, `fail-nth`), plus pvlockfs's own `errno`, `files`, `seed`, `tasks`
 * (the pids `task-filter` lets fail: the kernel's `/proc/PID/make-it-fail`) and, for `stall`,
 * `ns`, `ms`, `hang`, `ops` and `release`; `injected` and `log` say what happened. Root only
 * (0700 / 0600), as the kernel's are under debugfs.
 */
export function buildFaultControl(control: DirNode, faults: Faults, nowMs: number): void {
  const dir = faultDir(control, nowMs);
  for (const op of FAULT_OPS) buildFail(dir, faults.fail[op], nowMs);
  const s = faults.stall;
  const st = buildAttrs(dir, s.attr, nowMs);
  text(
    st,
    'files',
    () => s.filesText,
    (t) => Faults.select(s, t),
    nowMs,
  );
  number(
    st,
    'ns',
    () => s.ns,
    (v) => (s.ns = v),
    nowMs,
  );
  number(
    st,
    'ms',
    () => s.ms,
    (v) => (s.ms = v),
    nowMs,
  );
  number(
    st,
    'hang',
    () => Number(s.hang),
    (v) => (s.hang = boolValue(v)),
    nowMs,
  );
  text(
    st,
    'ops',
    () => [...s.ops].join(' '),
    (t) => (s.ops = parseOps(t)),
    nowMs,
  );
  // Write-only; reads as nothing (root's grep -r reads it without an error).
  createText(
    'release',
    0o200,
    st,
    () => '',
    nowMs,
    () => void faults.releaseAll(),
  );
  createText('injected', 0o400, dir, () => faults.injectedText(), nowMs);
  createText('log', 0o400, dir, () => faults.logText(), nowMs);
}

function buildFail(dir: DirNode, c: FailCapability, nowMs: number): void {
  const d = buildAttrs(dir, c.attr, nowMs);
  text(
    d,
    'errno',
    () => errnoName(c.errno),
    (t) => (c.errno = parseErrno(t)),
    nowMs,
  );
  text(
    d,
    'files',
    () => c.filesText,
    (t) => Faults.select(c, t),
    nowMs,
  );
}

/** The kernel's attributes of one capability, in its directory. */
function buildAttrs(parent: DirNode, a: FaultAttr, nowMs: number): DirNode {
  const d = privateDir(a.name, parent, nowMs);
  number(
    d,
    'probability',
    () => a.probability,
    (v) => (a.probability = percent(v)),
    nowMs,
  );
  number(
    d,
    'interval',
    () => a.interval,
    (v) => (a.interval = v),
    nowMs,
  );
  signed(
    d,
    'times',
    () => a.times,
    (v) => (a.times = v),
    nowMs,
  );
  signed(
    d,
    'space',
    () => a.space,
    (v) => (a.space = v),
    nowMs,
  );
  number(
    d,
    'verbose',
    () => a.verbose,
    (v) => (a.verbose = atMost(v, 2, 'verbose')),
    nowMs,
  );
  text(
    d,
    'task-filter',
    () => (a.taskFilter ? 'Y' : 'N'),
    (t) => (a.taskFilter = bool(t)),
    nowMs,
  );
  text(
    d,
    'tasks',
    () => [...a.tasks].join(' '),
    (t) => setTasks(a, t),
    nowMs,
  );
  number(
    d,
    'fail-nth',
    () => a.failNth,
    (v) => (a.failNth = v),
    nowMs,
  );
  number(
    d,
    'seed',
    () => a.seed,
    (v) => (a.seed = v),
    nowMs,
  );
  return d;
}

/** A directory only root may enter. */
function privateDir(name: string, parent: DirNode, nowMs: number): DirNode {
  const d = createDir(name, parent, nowMs);
  d.mode = 0o700;
  return d;
}

/** An unsigned attribute (a u64 as debugfs writes it: `kstrtoull`, then our range check). */
function number(
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
function signed(
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
function text(
  d: DirNode,
  name: string,
  get: () => string,
  set: (t: string) => void,
  nowMs: number,
): void {
  createText(name, 0o600, d, () => `${get()}\n`, nowMs, set);
}

function percent(v: number): number {
  return atMost(v, 100, 'probability');
}

function atMost(v: number, max: number, name: string): number {
  if (v > max) throw new FsError('EINVAL', `${name} ${v} above ${max}`);
  return v;
}

function boolValue(v: number): boolean {
  if (v > 1) throw new FsError('EINVAL', `hang ${v}: 0 or 1`);
  return v === 1;
}

/** `kstrtobool`: y/Y/1/on → true, n/N/0/off → false (its first characters decide). */
function bool(t: string): boolean {
  const s = t.trim().toLowerCase();
  if (/^(y|1|on)/.test(s)) return true;
  if (/^(n|0|off)/.test(s)) return false;
  throw new FsError('EINVAL', `not a boolean: ${JSON.stringify(t)}`);
}

function setTasks(a: FaultAttr, t: string): void {
  const words = t.split(/\s+/).filter((w) => w !== '');
  if (!words.every((w) => /^[0-9]{1,10}$/.test(w)))
    throw new FsError('EINVAL', `tasks ${JSON.stringify(t)}: pids`);
  a.tasks.clear();
  for (const w of words) a.tasks.add(Number(w));
}

function parseOps(t: string): Set<FaultOp> {
  const words = t.split(/\s+/).filter((w) => w !== '');
  const ops = new Set<FaultOp>();
  for (const w of words) {
    if (!(FAULT_OPS as readonly string[]).includes(w))
      throw new FsError('EINVAL', `stall ops: ${w} is not one of ${FAULT_OPS.join(' ')}`);
    ops.add(w as FaultOp);
  }
  return ops;
}

/** Adds the capabilities to `fault/` in the control directory (`pvlockfs/`) at a mount's root. */
export function addFaultControl(root: DirNode, faults: Faults, nowMs: number): void {
  buildFaultControl(controlDir(root), faults, nowMs);
}

/**
 * Adds `fault/counters` (every tree, mounted or run): a write applies a counter fault now
 * (`wrap=3`, `reset`, `freeze`, `thaw`, `glitch=2 minus=5 files=GLOB`); a read gives
 * `events=`, `frozen=` and `glitching_files=`.
 */
export function addCounterControl(root: DirNode, counters: CounterFaults, nowMs: number): void {
  const dir = faultDir(controlDir(root), nowMs);
  text(
    dir,
    'counters',
    () => counters.statusText().trimEnd(),
    (t) => {
      let e: CounterEvent;
      try {
        e = parseCounterEvent(t);
      } catch (err) {
        throw new FsError('EINVAL', (err as Error).message);
      }
      counters.apply(e);
    },
    nowMs,
  );
}

function controlDir(root: DirNode): DirNode {
  const control = root.children.get('pvlockfs');
  if (control === undefined || control.kind !== 'dir') throw new Error('no pvlockfs/ at the root');
  return control;
}

/** The control directory's `fault/` (made, root only, the first time). */
function faultDir(control: DirNode, nowMs: number): DirNode {
  const d = control.children.get('fault');
  if (d !== undefined && d.kind === 'dir') return d;
  return privateDir('fault', control, nowMs);
}
