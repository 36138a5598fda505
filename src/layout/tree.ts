import { DebugFs } from '../debugfs/fs';
import { createAttr, createDir, createU32Array, DirNode, Width } from '../debugfs/nodes';
import type { Abi } from '../debugfs/parse';
import { LAYOUT_NAMES, LayoutName, LockAlgorithm } from '../sim/config';
import { LOCK_ALGORITHMS } from '../sim/lock-registry';
import type { QStats } from '../sim/qstats';
import { buildQlockstat, QSTAT_NAMES } from './qlockstat';
import { buildControl } from './control';
import { Histo, PvStats, SlowCount, U64 } from '../sim/stats';

/** The width of every histogram file: 31 log2 buckets (the simulation's, re-exported for the viewers). */
export { HISTO_BUCKETS } from '../sim/stats';

/** What the tree needs from the running guest; the live driver and the headless run provide it. */
export interface GuestPort {
  readonly stats: PvStats;
  readonly qstats: QStats;
  readonly seed: number;
  simTimeNs(): number;
  /** The vCPUs' spinning while a lock's holder was preempted, so far (ns; every guest's, for the host). */
  holderPreemptedNs(): number;
  running(): number;
  setRunning(value: number): void;
  /** Runs exactly `ns` simulated ns on a stopped guest; null where the clock cannot be stepped. */
  advance: ((ns: number) => void) | null;
  hogs(): number;
  setHogs(n: number): void;
  configText(): string;
  /** A mount's timeline recorder (`pvlockfs/trace_ns`, `trace_status`); absent in a headless run. */
  trace?: TraceControl;
  /** `key=value` lines of the RFC's solutions (b) and (c) when either is on (`pvlockfs/solutions`). */
  solutions?: () => string;
  /** `key=value` counters of the 2010 host's mechanisms that are on (`pvlockfs/mechanisms`). */
  mechanisms?: () => string;
}

/** What the control directory's trace files read and write. */
export interface TraceControl {
  /** Simulated ns the recording in progress has left (0: none). */
  left(): number;
  /** Starts a recording of the next `ns` simulated ns, or with 0 ends the one in progress. */
  set(ns: number): void;
  /** `key=value` lines: the recording in progress and the last file written. */
  status(): string;
}

/** The single-number files of the RFC's `kvm/spinlocks/`. */
export const SCALAR_NAMES = [
  'zero_stats',
  'timeout',
  'taken',
  'taken_slow',
  'released',
  'time_spinning',
  'time_blocked',
  'time_total',
] as const;
/** The three u32-array histograms. */
export const HISTO_NAMES = ['histo_total', 'histo_spinning', 'histo_blocked'] as const;
/** The further u32 counters of the later block-and-kick slow paths (Xen 2.6.35, KVM 3.12). */
const SLOW_NAMES = [
  'taken_slow_nested',
  'taken_slow_pickup',
  'taken_slow_spurious',
  'taken_slow_irqenable',
  'released_slow',
  'released_slow_kicked',
] as const;
/** An integer file of a statistics directory. */
type AttrName = (typeof SCALAR_NAMES)[number] | (typeof SLOW_NAMES)[number];
/** A file of a statistics directory (the compiler knows every name; a typo does not build). */
type StatsFile = AttrName | (typeof HISTO_NAMES)[number];

/** One statistics directory: where it sits below the root and its files, in creation order. */
interface StatsDir {
  dir: readonly [string, string];
  files: readonly StatsFile[];
}

/** The RFC's `kvm/spinlocks/` (patch 3/4). */
const KVM_2010: StatsDir = { dir: ['kvm', 'spinlocks'], files: [...SCALAR_NAMES, ...HISTO_NAMES] };
/** The 3.12–4.8 KVM pv ticketlock's `kvm-guest/spinlocks/` (arch/x86/kernel/kvm.c, CONFIG_KVM_DEBUG_FS). */
const KVM_GUEST: StatsDir = {
  dir: ['kvm-guest', 'spinlocks'],
  files: [
    'zero_stats',
    'taken_slow',
    'taken_slow_pickup',
    'released_slow',
    'released_slow_kicked',
    'time_blocked',
    'histo_blocked',
  ],
};
/** Xen 2.6.35's `xen/spinlocks/` (arch/x86/xen/spinlock.c): the RFC's files plus the block-and-kick counters. */
const XEN: StatsDir = {
  dir: ['xen', 'spinlocks'],
  files: [
    'zero_stats',
    'timeout',
    'taken',
    'taken_slow',
    ...SLOW_NAMES.slice(0, 4),
    'released',
    ...SLOW_NAMES.slice(4),
    'time_spinning',
    'time_blocked',
    'time_total',
    ...HISTO_NAMES,
  ],
};

/** A statistics directory's files, relative to the mount root. */
const pathsOf = (d: StatsDir): string[] => d.files.map((n) => `${d.dir.join('/')}/${n}`);

/** The 11 files of the RFC's `kvm/spinlocks/`, in creation order, relative to the mount root. */
export const SPINLOCK_FILES = pathsOf(KVM_2010);

/** The debugfs layouts pvlockfs can present. */
export const LAYOUTS = LAYOUT_NAMES;
/**
 * A layout: the RFC's `kvm/spinlocks/`, its Xen 2.6.35 template `xen/spinlocks/`, the 3.12–4.8
 * pv ticketlock's `kvm-guest/spinlocks/` or the 4.5+ pv qspinlock's `qlockstat/`.
 */
export type Layout = LayoutName;

/** The layout a guest running `lock` keeps (each is fed by its own algorithm's accounting). */
export function naturalLayout(lock: LockAlgorithm): Layout {
  return LOCK_ALGORITHMS[lock].layout;
}

/** The files of the 3.12–4.8 KVM pv ticketlock's `kvm-guest/spinlocks/`, in creation order. */
export const KVM_GUEST_FILES = pathsOf(KVM_GUEST);

/** Xen 2.6.35's `xen/spinlocks/`, in creation order. */
export const XEN_FILES = pathsOf(XEN);

/** The qspinlock statistics of 4.5+ (`qlockstat/`): the counters, then `reset_counters`. */
export const QLOCKSTAT_FILES = [...QSTAT_NAMES, 'reset_counters'].map((n) => `qlockstat/${n}`);

/** The statistics files of a layout, relative to the mount root. */
export function layoutFiles(layout: Layout): string[] {
  return LAYOUT_SPECS[layout].files;
}

/** The files of a layout that can be read (all but qlockstat's write-only `reset_counters`). */
export function readableFiles(layout: Layout): string[] {
  return layoutFiles(layout).filter((f) => f !== 'qlockstat/reset_counters');
}

/** The files of pvlockfs's own control directory. */
export const CONTROL_FILES = ['running', 'sim_time_ns', 'seed', 'hogs', 'config'].map(
  (n) => `pvlockfs/${n}`,
);

/** Root directory mode per ABI: 0700 since 3.7 (`modern`), 0755 in 2.6.35. */
export function rootMode(abi: Abi): number {
  return abi === 'modern' ? 0o700 : 0o755;
}

/**
 * Builds the tree of docs/debugfs.md §1, bound to the guest: the RFC's patch 3/4 files under
 * `kvm/spinlocks/` (or another layout's files, docs/debugfs.md §5) and the `pvlockfs/` control directory.
 */
export function buildTree(
  port: GuestPort,
  abi: Abi,
  nowMs: number,
  layout: Layout = 'kvm-2010',
): DirNode {
  const root = createDir('', null, nowMs, rootMode(abi));
  LAYOUT_SPECS[layout].build(root, port, nowMs);
  buildControl(root, port, nowMs);
  return root;
}

/** One layout: its statistics files (relative to the root, in creation order) and how to build them. */
interface LayoutSpec {
  files: string[];
  build(root: DirNode, port: GuestPort, nowMs: number): void;
}

/** Every layout, declared once; the compiler checks that none is missing. */
const LAYOUT_SPECS = {
  'kvm-2010': {
    files: SPINLOCK_FILES,
    build: (root, port, nowMs) => buildStats(root, port.stats, KVM_2010, nowMs),
  },
  'xen-2.6.35': {
    files: XEN_FILES,
    build: (root, port, nowMs) => buildStats(root, port.stats, XEN, nowMs),
  },
  'kvm-guest-3.12': {
    files: KVM_GUEST_FILES,
    build: (root, port, nowMs) => buildStats(root, port.stats, KVM_GUEST, nowMs),
  },
  qlockstat: {
    files: QLOCKSTAT_FILES,
    build: (root, port, nowMs) => buildQlockstat(root, port.qstats, nowMs),
  },
} satisfies Record<Layout, LayoutSpec>;

/** An integer attribute of a statistics directory: mode, width, getter, setter (knobs only). */
type AttrSpec = [mode: number, width: Width, get: () => bigint, set: ((v: bigint) => void) | null];

/** The integer attributes the RFC's block and its later kin keep, by name (every name, checked). */
function rfcAttrs(s: PvStats): Record<AttrName, AttrSpec> {
  const u64 = (cell: U64) => () => s.getU64(cell);
  const slow = (c: SlowCount) => () => BigInt(s.slowCounts[c]);
  return {
    zero_stats: [0o644, 8, () => BigInt(s.zeroStats[0]), (v) => (s.zeroStats[0] = Number(v))],
    timeout: [0o644, 32, () => BigInt(s.timeout[0]), (v) => (s.timeout[0] = Number(v))],
    taken: [0o444, 64, u64(U64.Taken), null],
    taken_slow: [0o444, 32, () => BigInt(s.takenSlow[0]), null],
    taken_slow_nested: [0o444, 32, slow(SlowCount.Nested), null],
    taken_slow_pickup: [0o444, 32, slow(SlowCount.Pickup), null],
    taken_slow_spurious: [0o444, 32, slow(SlowCount.Spurious), null],
    taken_slow_irqenable: [0o444, 32, slow(SlowCount.IrqEnable), null],
    released: [0o444, 64, u64(U64.Released), null],
    released_slow: [0o444, 32, slow(SlowCount.Released), null],
    released_slow_kicked: [0o444, 32, slow(SlowCount.Kicked), null],
    time_spinning: [0o444, 64, u64(U64.TimeSpinning), null],
    time_blocked: [0o444, 64, u64(U64.TimeBlocked), null],
    time_total: [0o444, 64, u64(U64.TimeTotal), null],
  };
}

/** The histograms, by file name. */
const HISTO_OF: Record<(typeof HISTO_NAMES)[number], Histo> = {
  histo_total: Histo.Total,
  histo_spinning: Histo.Spinning,
  histo_blocked: Histo.Blocked,
};

const isHisto = (name: StatsFile): name is (typeof HISTO_NAMES)[number] =>
  Object.prototype.hasOwnProperty.call(HISTO_OF, name);

/** Creates a statistics directory and its files, in order, bound to the RFC-style block `s`. */
function buildStats(root: DirNode, s: PvStats, spec: StatsDir, nowMs: number): void {
  const d = createDir(spec.dir[1], createDir(spec.dir[0], root, nowMs), nowMs);
  const attrs = rfcAttrs(s);
  for (const name of spec.files) {
    if (isHisto(name)) {
      const h = HISTO_OF[name];
      createU32Array(name, 0o444, d, () => s.histo[h], nowMs);
      continue;
    }
    const [mode, width, get, set] = attrs[name];
    createAttr(name, mode, d, width, get, set, nowMs);
  }
}

/** What `cat` shows for each file, read through the same code the mount uses. */
export function readAll(fs: DebugFs, paths: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    const fh = fs.open(p);
    try {
      const chunks: Buffer[] = [];
      for (;;) {
        const pos = chunks.reduce((a, b) => a + b.length, 0);
        const b = fs.read(fh, pos, 4096);
        if (b.length === 0) break;
        chunks.push(Buffer.from(b));
      }
      out[p] = Buffer.concat(chunks).toString('latin1');
    } finally {
      fs.release(fh);
    }
  }
  return out;
}
