import type { DirNode, Node } from '../debugfs/nodes';
import { quoted } from '../faults/boot';
import { compileGlobs } from '../faults/glob';
import type { QStats } from '../sim/qstats';
import type { PvStats } from '../sim/stats';
import { GuestModules } from './modules';
import { Layout, readableFiles } from './tree';

/**
 * Faults of the counters' values, the half no system-call fault injector has (docs/faults.md):
 * one-shot events written to `pvlockfs/fault/counters` or given in `--script` (`30s fault
 * wrap=3`), applied at a simulated instant, so `run --script` and a mount driven by the same script
 * show the same files.
 *
 * - `wrap=K`: every u32 counter and histogram bucket K increments before 2^32, every u64 K before
 *   2^64, so each wraps as the kernel's variables do (qlockstat's per-CPU sums are left alone).
 * - `reset`: every statistic to 0 at once (not the guest's own lazy `zero_stats`: no update needed).
 * - `freeze` / `thaw`: the statistics files keep showing the values of the freeze; the counters
 *   go on underneath and show their true values again at the thaw.
 * - `glitch=N [minus=D] [files=GLOB,GLOB…]`: the next N reads of each chosen file show 0 (or the value
 *   minus D, at least 0; each bucket of a histogram), then the true series resumes.
 * - `unload` / `load`: the statistics directory (`kvm/`, `qlockstat/` …) goes, as at a module's
 *   removal (a lookup: ENOENT; a file opened before: EIO, also after it is back), and comes back
 *   zeroed, the knobs at their boot values. `reboot=DURATION`: unload, and load DURATION of
 *   simulated time later.
 * - `chmod=MODE` / `chmod=restore`: every file of the statistics directory gets MODE (octal), as
 *   a lockdown or a tightened debugfs would give, or its own mode back.
 */
export type CounterEvent =
  | { kind: 'wrap'; k: number }
  | { kind: 'reset' }
  | { kind: 'freeze' }
  | { kind: 'thaw' }
  | { kind: 'glitch'; reads: number; minus: number | null; files: string }
  | { kind: 'unload' }
  | { kind: 'load' }
  | { kind: 'reboot'; forNs: number }
  | { kind: 'chmod'; mode: number | null };

/** The most increments before the wrap `wrap=K` takes (2^32 − 1: every u32 from 1). */
const MAX_WRAP_K = 4294967295;
/** The most glitched reads one event asks for. */
const MAX_GLITCH_READS = 1_000_000;

/** Parses an event as written (`wrap=3`, `glitch=2 minus=5 files=kvm/spinlocks/taken`). */
export function parseCounterEvent(text: string): CounterEvent {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [head = '', ...rest] = words;
  const [name, arg] = head.split('=', 2) as [string, string | undefined];
  const int = (v: string | undefined, what: string, max: number): number => {
    if (v === undefined || !/^[0-9]{1,16}$/.test(v) || Number(v) < 1 || Number(v) > max)
      throw new Error(`${what} takes a whole number from 1 to ${max}`);
    return Number(v);
  };
  const bare = (kind: 'reset' | 'freeze' | 'thaw' | 'unload' | 'load'): CounterEvent => {
    if (arg !== undefined || rest.length > 0) throw new Error(`${kind} takes nothing more`);
    return { kind };
  };
  switch (name) {
    case 'wrap':
      if (rest.length > 0) throw new Error('wrap=K takes nothing more');
      return { kind: 'wrap', k: int(arg, 'wrap=K', MAX_WRAP_K) };
    case 'reset':
    case 'freeze':
    case 'thaw':
    case 'unload':
    case 'load':
      return bare(name);
    case 'reboot':
      if (rest.length > 0) throw new Error('reboot=DURATION takes nothing more');
      return { kind: 'reboot', forNs: durationOf(arg) };
    case 'chmod':
      if (rest.length > 0) throw new Error('chmod=MODE takes nothing more');
      if (arg === 'restore') return { kind: 'chmod', mode: null };
      if (arg === undefined || !/^[0-7]{1,4}$/.test(arg))
        throw new Error('chmod takes an octal MODE (chmod=0400) or restore');
      return { kind: 'chmod', mode: parseInt(arg, 8) };
    case 'glitch':
      return glitchOf(int(arg, 'glitch=N', MAX_GLITCH_READS), rest);
    default:
      throw new Error(
        `${quoted(head)} is not a counter fault (wrap=K, reset, freeze, thaw, glitch=N, unload, load, reboot=DURATION, chmod=MODE)`,
      );
  }
}

/** The most simulated time a reboot may take: 10 simulated minutes. */
const MAX_REBOOT_NS = 600e9;
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A simulated duration with a unit (`2s`, `500ms`), from 1 ns to 10 minutes. */
function durationOf(v: string | undefined): number {
  const m = v === undefined ? null : /^([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)$/.exec(v);
  const ns = m === null ? NaN : Math.round(Number(m[1]) * UNIT_NS[m[2]]);
  if (!(ns >= 1 && ns <= MAX_REBOOT_NS))
    throw new Error('reboot takes a simulated DURATION with a unit, from 1ns to 10m (reboot=2s)');
  return ns;
}

function glitchOf(reads: number, rest: readonly string[]): CounterEvent {
  let minus: number | null = null;
  const files: string[] = [];
  for (const w of rest) {
    const m = /^(minus|files)=(.+)$/.exec(w);
    if (m === null) throw new Error(`glitch: ${quoted(w)} is not minus=D or files=GLOB`);
    if (m[1] === 'minus') {
      if (!/^[0-9]{1,15}$/.test(m[2])) throw new Error('glitch: minus=D takes a whole number');
      minus = Number(m[2]);
    } else files.push(...m[2].split(','));
  }
  return { kind: 'glitch', reads, minus, files: files.join(' ') };
}

/** One guest's statistics, its tree and its layout. */
export interface CounterGuest {
  stats: PvStats;
  qstats: QStats;
  root: DirNode;
  layout: Layout;
  /** Where the guest's tree is in the mount (`''` for a single guest, `NAME/` otherwise). */
  prefix: string;
}

/** What a statistics file shows: the live value, a frozen one, or a glitched one. */
type Value = bigint | ArrayLike<number> | string;

/** A statistics file whose getter goes through the counter faults. */
interface Watched {
  path: string;
  live: () => Value;
  frozen: Value | null;
  glitches: number;
  minus: number | null;
}

/**
 * A tree's counter faults. Created once its trees are built: every statistics file's getter then
 * goes through it (nothing changes until an event is applied).
 */
export class CounterFaults {
  private readonly files: Watched[] = [];
  /** Events applied so far (the counters file reads them back). */
  applied = 0;
  private frozenNow = false;

  /** The guests' statistics directories as modules (unload, load, reboot, chmod). */
  readonly modules: GuestModules;

  constructor(
    private readonly guests: readonly CounterGuest[],
    simNowNs: () => number = () => 0,
  ) {
    this.modules = new GuestModules(guests, simNowNs);
    for (const g of guests)
      for (const f of readableFiles(g.layout)) {
        if (f.endsWith('/zero_stats') || f.endsWith('/timeout')) continue;
        const node = nodeAt(g.root, f);
        if (node !== null) this.watch(node, `${g.prefix}${f}`);
      }
  }

  private watch(node: Node, path: string): void {
    if (node.kind !== 'attr' && node.kind !== 'array' && node.kind !== 'event') return;
    if (node.kind === 'event' && node.get === null) return;
    const w: Watched = { path, live: () => 0n, frozen: null, glitches: 0, minus: null };
    this.files.push(w);
    if (node.kind === 'attr') {
      const get = node.get;
      w.live = get;
      node.get = () => this.shown(w) as bigint;
    } else if (node.kind === 'array') {
      const get = node.get;
      w.live = get;
      node.get = () => this.shown(w) as ArrayLike<number>;
    } else {
      const get = node.get as () => string;
      w.live = get;
      node.get = () => this.shown(w) as string;
    }
  }

  /** What one read of a watched file shows. */
  private shown(w: Watched): Value {
    const v = w.frozen ?? w.live();
    if (w.glitches === 0) return v;
    w.glitches -= 1;
    return glitched(v, w.minus);
  }

  /** Applies an event now. */
  apply(e: CounterEvent): void {
    this.applied += 1;
    switch (e.kind) {
      case 'wrap':
        for (const g of this.guests) g.stats.nearWrap(e.k);
        return;
      case 'reset':
        for (const g of this.guests) {
          g.stats.resetAll();
          g.qstats.reset();
        }
        return;
      case 'freeze':
        if (this.frozenNow) return;
        this.frozenNow = true;
        for (const w of this.files) w.frozen = snapshot(w.live());
        return;
      case 'thaw':
        this.frozenNow = false;
        for (const w of this.files) w.frozen = null;
        return;
      case 'glitch': {
        const chosen = compileGlobs(e.files);
        for (const w of this.files)
          if (chosen(w.path)) {
            w.glitches = e.reads;
            w.minus = e.minus;
          }
        return;
      }
      case 'unload':
        return this.modules.unload();
      case 'load':
        return this.modules.load();
      case 'reboot':
        return this.modules.reboot(e.forNs);
      case 'chmod':
        return this.modules.chmod(e.mode);
    }
  }

  /** Lets a rebooting module come back once its simulated time has come. */
  clockAdvanced(): void {
    this.modules.clockAdvanced();
  }

  /** `key=value` lines for reading the counters file back. */
  statusText(): string {
    const glitching = this.files.filter((w) => w.glitches > 0).length;
    return `events=${this.applied}\nfrozen=${this.frozenNow ? 1 : 0}\nglitching_files=${glitching}\nloaded=${this.modules.loaded ? 1 : 0}\n`;
  }
}

function nodeAt(root: DirNode, path: string): Node | null {
  let n: Node = root;
  for (const part of path.split('/')) {
    if (n.kind !== 'dir') return null;
    const next = n.children.get(part);
    if (next === undefined) return null;
    n = next;
  }
  return n;
}

/** A value kept as it is now (arrays are copied: the live one changes). */
function snapshot(v: Value): Value {
  return typeof v === 'bigint' || typeof v === 'string' ? v : Uint32Array.from(v);
}

/** A value shown 0, or minus `minus` (at least 0); text (qlockstat's) shows its numbers so. */
function glitched(v: Value, minus: number | null): Value {
  const less = (x: bigint): bigint =>
    minus === null ? 0n : x > BigInt(minus) ? x - BigInt(minus) : 0n;
  if (typeof v === 'bigint') return less(v);
  if (typeof v === 'string') return v.replace(/[0-9]+/g, (d) => String(less(BigInt(d))));
  return Uint32Array.from(v, (x) => Number(less(BigInt(x >>> 0))));
}
