import { ERRNO, ErrnoName, FsError } from '../debugfs/errors';
import { FaultAttr } from './attr';
import { compileGlobs } from './glob';

/** The file operations a fault can fail or stall, each its kernel-style capability `fail_OP`. */
export const FAULT_OPS = ['open', 'read', 'write', 'getattr', 'readdir'] as const;
/** One of `FAULT_OPS`. */
export type FaultOp = (typeof FAULT_OPS)[number];

/** The errno a capability answers with by default (what a failing device read gives). */
const DEFAULT_ERRNO: ErrnoName = 'EIO';
/** Injections the log keeps (the oldest is dropped first). */
export const LOG_ENTRIES = 64;

/** What a capability selects besides the kernel's attributes: the files, by glob. */
interface Selection {
  /** The globs as written (space- or newline-separated); empty: every file. */
  filesText: string;
  files: (path: string) => boolean;
}

/** A `fail_OP` capability: the kernel's attributes, the files it applies to, its errno. */
export interface FailCapability extends Selection {
  readonly attr: FaultAttr;
  errno: number;
  injected: number;
}

/** How a stall is released. */
export interface StallLength {
  /** Simulated ns from the call (released when the clock passes it; 0: not by the clock). */
  ns: number;
  /** Wall ms from the call (0: not by the wall clock). */
  ms: number;
  /** Held until `release` is written (or the daemon stops). */
  hang: boolean;
}

/** The `stall` capability: which operations it holds, and for how long. */
export interface StallCapability extends Selection, StallLength {
  readonly attr: FaultAttr;
  ops: Set<FaultOp>;
  injected: number;
}

/** One injection, as the log keeps it. */
export interface Injection {
  simNs: number;
  op: FaultOp;
  path: string;
  /** The errno answered, or `stall`. */
  what: string;
}

/**
 * What to do with one operation: answer it as usual (null), fail it with an errno, or hold it and
 * then do what the promise says (an errno, or null: answer as usual).
 */
export type Decision = null | { errno: number } | { stall: Promise<number | null> };

/** A stalled operation waiting for its release. */
interface Held {
  untilNs: number;
  release: () => void;
  timer: NodeJS.Timeout | null;
  hang: boolean;
}

/**
 * A mount's fault injection: one `fail_OP` capability per file operation and one `stall`, each
 * with the kernel's attributes (`FaultAttr`) and its own seeded stream (the mount's seed unless
 * its `seed` is written). `decide` is asked before each operation on the guest's files; the
 * control directory (any path through a `pvlockfs` directory) and the root are never faulted.
 */
export class Faults {
  readonly fail: Record<FaultOp, FailCapability>;
  readonly stall: StallCapability;
  private readonly entries: Injection[] = [];
  private held: Held[] = [];
  /** Told of each injection with its log lines (for `verbose`). */
  onLog: (lines: string) => void = () => undefined;

  constructor(
    seed: number,
    /** The simulated clock (ns). */
    private readonly simNowNs: () => number,
  ) {
    const fail = {} as Record<FaultOp, FailCapability>;
    for (const op of FAULT_OPS)
      fail[op] = {
        attr: new FaultAttr(`fail_${op}`, seed),
        errno: ERRNO[DEFAULT_ERRNO],
        injected: 0,
        ...selection(''),
      };
    this.fail = fail;
    this.stall = {
      attr: new FaultAttr('stall', seed),
      ops: new Set<FaultOp>(['read']),
      ns: 0,
      ms: 0,
      hang: false,
      injected: 0,
      ...selection(''),
    };
  }

  /** Sets which files a capability applies to (globs; empty: all). */
  static select(cap: Selection, text: string): void {
    Object.assign(cap, selection(text));
  }

  /**
   * Whether `op` on `path` (FUSE's, from the mount's root) by `pid` fails, stalls or goes on.
   * A stall is decided first (a stalled call is then answered as usual, or failed by fail_OP).
   */
  decide(op: FaultOp, path: string, size: number, pid: number): Decision {
    const s = this.stall;
    const stallOn = s.attr.live && s.ops.has(op);
    // Nothing armed for this operation (the common case): nothing else is looked at.
    if (!stallOn && !this.fail[op].attr.live) return null;
    if (exempt(path)) return null;
    const rel = path.slice(1);
    if (stallOn && s.files(rel) && s.attr.shouldFail(size, pid)) {
      s.injected += 1;
      this.record(s.attr, op, path, 'stall');
      const failAfter = this.failDecision(op, rel, path, size, pid);
      return { stall: this.hold().then(() => failAfter) };
    }
    const errno = this.failDecision(op, rel, path, size, pid);
    return errno === null ? null : { errno };
  }

  private failDecision(
    op: FaultOp,
    rel: string,
    path: string,
    size: number,
    pid: number,
  ): number | null {
    const c = this.fail[op];
    if (!c.files(rel) || !c.attr.shouldFail(size, pid)) return null;
    c.injected += 1;
    this.record(c.attr, op, path, errnoName(c.errno));
    return c.errno;
  }

  private record(attr: FaultAttr, op: FaultOp, path: string, what: string): void {
    this.entries.push({ simNs: this.simNowNs(), op, path, what });
    if (this.entries.length > LOG_ENTRIES) this.entries.shift();
    if (attr.verbose >= 1) this.onLog(`${attr.lastLog}\n(${op} ${path}: ${what})`);
  }

  /** A stall of the capability's length, from now. */
  private hold(): Promise<void> {
    const s = this.stall;
    return new Promise<void>((resolve) => {
      const h: Held = {
        untilNs: s.ns > 0 ? this.simNowNs() + s.ns : Infinity,
        release: () => undefined,
        timer: null,
        hang: s.hang,
      };
      h.release = () => {
        if (h.timer !== null) clearTimeout(h.timer);
        this.held = this.held.filter((x) => x !== h);
        resolve();
      };
      if (s.ms > 0) h.timer = setTimeout(h.release, s.ms);
      // Nothing to wait for: a stall of no length passes at once.
      if (s.ns === 0 && s.ms === 0 && !s.hang) return h.release();
      this.held.push(h);
    });
  }

  /** Releases the stalls whose simulated length has passed (the driver calls it as time runs). */
  clockAdvanced(): void {
    if (this.held.length === 0) return;
    const now = this.simNowNs();
    for (const h of [...this.held]) if (h.untilNs <= now) h.release();
  }

  /** Releases every stall (`stall/release`, and the daemon at shutdown). */
  releaseAll(): number {
    const n = this.held.length;
    for (const h of [...this.held]) h.release();
    return n;
  }

  /** Operations held by a stall now. */
  get stalled(): number {
    return this.held.length;
  }

  /** `injected`: a line per capability, `NAME COUNT`. */
  injectedText(): string {
    const lines = FAULT_OPS.map((op) => `fail_${op} ${this.fail[op].injected}`);
    lines.push(`stall ${this.stall.injected}`);
    return `${lines.join('\n')}\n`;
  }

  /** `log`: the last injections, oldest first: `SIM_NS OP PATH ERRNO|stall`. */
  logText(): string {
    return this.entries.map((e) => `${e.simNs} ${e.op} ${e.path} ${e.what}\n`).join('');
  }
}

function selection(text: string): Selection {
  return { filesText: text.trim(), files: compileGlobs(text) };
}

/** The root and the control directory are never faulted (a fault could not be disarmed). */
function exempt(path: string): boolean {
  return path === '/' || path.split('/').includes('pvlockfs');
}

/** The name of an errno number (the number itself when it has none here). */
export function errnoName(n: number): string {
  for (const [name, v] of Object.entries(ERRNO)) if (v === n) return name;
  return String(n);
}

/** An errno as written: a name (`EIO`) or a number from 1 to 4095; otherwise EINVAL. */
export function parseErrno(text: string): number {
  const t = text.trim();
  if (Object.prototype.hasOwnProperty.call(ERRNO, t)) return ERRNO[t as ErrnoName];
  if (/^[0-9]+$/.test(t) && Number(t) >= 1 && Number(t) <= 4095) return Number(t);
  throw new FsError('EINVAL', `errno ${JSON.stringify(t)}`);
}
