import { FsError } from '../debugfs/errors';
import { createText, DirNode } from '../debugfs/nodes';
import { FaultAttr } from '../faults/attr';
import { CounterEvent, CounterFaults, parseCounterEvent } from './counter-faults';
import {
  bool,
  boolValue,
  number,
  parseOps,
  percent,
  atMost,
  privateDir,
  setTasks,
  signed,
  text,
} from './fault-files';
import { FailCapability, FAULT_OPS, Faults, errnoName, parseErrno } from '../faults/faults';

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
