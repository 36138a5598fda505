import { FsError } from '../debugfs/errors';
import type { DebugFs } from '../debugfs/fs';
import { parseAttrWrite } from '../debugfs/parse';
import { CounterEvent, parseCounterEvent } from '../layout/counter-faults';
import { Layout, layoutFiles } from '../layout/tree';
import { MAX_HOGS } from '../sim/config';
import { Machine, RunStop } from '../sim/machine';
import { durationNs } from './duration';
import { UsageError } from './errors';
import { why } from '../os/errors';
import { shown, shownPath } from '../os/shown';
import { readSmallFileWithMode } from '../os/small-file';

/** The knobs a script may set, and where each lives (`null` directory: the layout's statistics). */
const KNOBS = {
  hogs: 'pvlockfs/hogs',
  running: 'pvlockfs/running',
  timeout: null,
  zero_stats: null,
  reset_counters: null,
  // A counter fault (`30s fault wrap=3`: the rest of the line is the event).
  fault: 'pvlockfs/fault/counters',
} as const;

/** A knob a script can set. */
export type Knob = keyof typeof KNOBS;

/** One timed action: at `atNs` simulated ns, write `value` to `path` (as `echo value > path`). */
export interface Action {
  atNs: number;
  knob: Knob;
  path: string;
  value: string;
  /** Where it was written, for messages: `FILE:LINE`. */
  where: string;
}

/** The latest instant a script may name (104 days: simulated ns stay exact integers). */
const MAX_AT_NS = Number.MAX_SAFE_INTEGER;
/** The most lines a script may hold (it is read whole). */
const MAX_LINES = 100_000;
/** The longest line a script may have: an action is a few dozen characters. */
const MAX_LINE_CHARS = 4096;

/** The path of `knob` in `layout`, or null when that layout has no such file. */
function knobPath(knob: Knob, layout: Layout): string | null {
  const fixed = KNOBS[knob];
  if (fixed !== null) return fixed;
  return layoutFiles(layout).find((f) => f.endsWith(`/${knob}`)) ?? null;
}

/**
 * Parses a script: one action a line, `TIME KNOB=VALUE` (`10s hogs=12`, `1500ms timeout=1`; with
 * several guests a guest's knob is `NAME/KNOB`: `1500ms web/timeout=1`),
 * `#` starts a comment, blank lines are skipped. TIME is simulated time since the start, with a
 * unit (ns, us, ms, s, m, h); 0 is allowed. VALUE is what `echo` would write, checked as the
 * file would check it (the modern parser; `hogs` at most 1024). Errors name FILE:LINE:COLUMN.
 * Actions are returned in time order; two at the same instant keep the order of their lines.
 */
export function parseScript(
  text: string,
  file: string,
  layout: Layout,
  guests: readonly { name: string; layout: Layout }[] = [],
  quote = true,
): Action[] {
  const lines = text.split('\n');
  // A file that ends with a newline has no line after it.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length > MAX_LINES) throw new UsageError(`${file}: more than ${MAX_LINES} lines`);
  const out: Action[] = [];
  lines.forEach((raw, i) => {
    const line: Line = {
      at: (col, msg) => new UsageError(`${file}:${i + 1}:${col + 1}: ${msg}`),
      // A file other users may not read is never quoted in a message (root reading /etc/shadow
      // as a script learns nothing from the error).
      q: (v) => (quote ? `'${shown(v)}'` : 'this'),
      quote,
      layout,
      guests,
    };
    const a = parseLine(line, raw);
    if (a === null) return;
    for (const one of Array.isArray(a) ? a : [a]) out.push({ ...one, where: `${file}:${i + 1}` });
  });
  return out
    .map((a, i) => [a, i] as const)
    .sort((x, y) => x[0].atNs - y[0].atNs || x[1] - y[1])
    .map(([a]) => a);
}

/** What parsing one line needs: where errors point, how values are quoted, the layouts. */
interface Line {
  at(col: number, msg: string): UsageError;
  q(value: string): string;
  quote: boolean;
  layout: Layout;
  guests: readonly { name: string; layout: Layout }[];
}

/** One line's action (without its place), or null for a blank or comment line. */
function parseLine(l: Line, raw: string): Omit<Action, 'where'> | Omit<Action, 'where'>[] | null {
  if (raw.length > MAX_LINE_CHARS)
    throw l.at(0, `line longer than ${MAX_LINE_CHARS} characters (expected TIME KNOB=VALUE)`);
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const hash = line.indexOf('#');
  const body = hash >= 0 ? line.slice(0, hash) : line;
  // Two words, the second KNOB=VALUE with a non-empty KNOB; found in one pass over the line.
  const words = [...body.matchAll(/\S+/g)];
  if (words.length === 0) return null;
  if (words.length >= 3 && words[1][0] === 'fault') return faultLine(l, body, words);
  const eq = words.length === 2 ? words[1][0].indexOf('=') : -1;
  if (eq <= 0)
    throw l.at(
      words[0].index ?? 0,
      `expected TIME KNOB=VALUE (e.g. 10s hogs=12), got ${l.quote ? l.q(body.trim()) : 'something else'}`,
    );
  const time = words[0][0];
  const knob = words[1][0].slice(0, eq);
  const value = words[1][0].slice(eq + 1);
  const knobCol = words[1].index ?? 0;
  const atNs = timeOf(l, time, words[0].index ?? 0);
  if (knob === 'fault')
    throw l.at(knobCol, 'a counter fault is written TIME fault EVENT (e.g. 30s fault wrap=3)');
  const { k, path } = knobOf(l, knob, knobCol);
  checkValue(l, k, value, knobCol + knob.length + 1);
  return { atNs, knob: k, path, value };
}

/**
 * `TIME fault EVENT…`: a counter fault (docs/faults.md), checked as the file would check it. A
 * `reboot=D` is an `unload` at TIME and a `load` at TIME + D, each at exactly its instant.
 */
function faultLine(l: Line, body: string, words: RegExpMatchArray[]): Omit<Action, 'where'>[] {
  const atNs = timeOf(l, words[0][0], words[0].index ?? 0);
  const col = words[2].index ?? 0;
  const value = body.slice(col).trim();
  let e: CounterEvent;
  try {
    e = parseCounterEvent(value);
  } catch (err) {
    throw l.at(col, `${l.quote ? l.q(value) : 'this'}: ${(err as Error).message}`);
  }
  const at = (ns: number, v: string): Omit<Action, 'where'> => ({
    atNs: ns,
    knob: 'fault',
    path: KNOBS.fault,
    value: v,
  });
  if (e.kind !== 'reboot') return [at(atNs, value)];
  if (atNs + e.forNs > MAX_AT_NS) throw l.at(col, 'the reboot ends too far (at most 104 days)');
  return [at(atNs, 'unload'), at(atNs + e.forNs, 'load')];
}

/** TIME as simulated ns (a duration with a unit, at most 104 days). */
function timeOf(l: Line, time: string, col: number): number {
  const atNs = durationNs(time);
  if (atNs === null)
    throw l.at(
      col,
      `${l.q(time)} is not a time (expected a number with a unit: ns, us, ms, s, m, h — e.g. 10s)`,
    );
  if (!Number.isSafeInteger(atNs) || atNs > MAX_AT_NS)
    throw l.at(col, `${l.q(time)} is too far (at most 104 days)`);
  return atNs;
}

/** KNOB (`NAME/KNOB` with several guests) as a knob and the file it is written to. */
function knobOf(l: Line, knob: string, col: number): { k: Knob; path: string } {
  const { guests } = l;
  // With several guests a guest's knob is named after its guest: `web/timeout=1`.
  const slash = knob.indexOf('/');
  const guestName = slash >= 0 ? knob.slice(0, slash) : null;
  const name = slash >= 0 ? knob.slice(slash + 1) : knob;
  if (!Object.prototype.hasOwnProperty.call(KNOBS, name))
    throw l.at(
      col + (slash + 1),
      `${l.q(name)} is not a knob (expected ${Object.keys(KNOBS)
        .filter((k) => k !== 'fault')
        .join(', ')}; or TIME fault EVENT)`,
    );
  const k = name as Knob;
  const hostKnob = KNOBS[k] !== null;
  const guest = guestName === null ? null : guests.find((g) => g.name === guestName);
  if (guestName !== null && guest === undefined)
    throw l.at(
      col,
      guests.length === 0
        ? `${l.q(knob)}: guests are named only with --guest`
        : `${l.q(guestName)} is not a guest (expected ${guests.map((g) => g.name).join(', ')})`,
    );
  if (guests.length > 0 && hostKnob && guestName !== null)
    throw l.at(col, `${k} is the host's: write it without a guest (${k}=…)`);
  if (guests.length > 0 && !hostKnob && guest === null)
    throw l.at(col, `with several guests, name the guest: ${guests[0].name}/${k}=…`);
  const inLayout = guest ? guest.layout : l.layout;
  const found = knobPath(k, inLayout);
  if (found === null) throw l.at(col, `layout ${inLayout} has no ${k}`);
  return { k, path: guest && !hostKnob ? `${guest.name}/${found}` : found };
}

/** VALUE, checked as the file would check it (the modern parser; `hogs` at most 1024). */
function checkValue(l: Line, k: Knob, value: string, col: number): void {
  if (k === 'reset_counters' || k === 'fault') return;
  const parsed = parseAttrWrite('modern', Buffer.from(`${value}\n`, 'latin1'));
  if (!parsed.ok) throw l.at(col, `${l.q(value)} is not a value ${k} accepts (${parsed.code})`);
  if (k === 'hogs' && parsed.value > BigInt(MAX_HOGS))
    throw l.at(col, `hogs ${l.quote ? shown(value) : 'this value'} is above ${MAX_HOGS}`);
}

/** Applies an action (writes its value to its file). */
export type ApplyAction = (a: Action) => void;

/**
 * A machine's clock with a script: `runTo` advances the machine to `targetNs` and applies each
 * action at exactly its instant (after every event of that instant). `run` and the mount's
 * driver both advance through it, so a script replays identically in either.
 */
export class ScriptedClock {
  private next = 0;

  /** `actions` in time order (as `parseScript` returns them). */
  constructor(
    readonly machine: Machine,
    private readonly actions: readonly Action[],
    private readonly apply: ApplyAction,
  ) {}

  /**
   * Runs to `targetNs` (or until `maxEvents` were processed, or the job finished, or `stop()`
   * says so after an action); returns why it returned, as `Machine.runUntil` does.
   */
  runTo(targetNs: number, maxEvents = Infinity, stop: () => boolean = () => false): RunStop {
    for (;;) {
      if (this.next < this.actions.length && this.actions[this.next].atNs <= this.machine.nowNs) {
        this.applyDue();
        if (stop()) return RunStop.ReachedTime;
      }
      if (this.machine.nowNs >= targetNs) return RunStop.ReachedTime;
      const due = this.next < this.actions.length ? this.actions[this.next].atNs : Infinity;
      const r = this.machine.runUntil(Math.min(targetNs, due), maxEvents);
      if (r !== RunStop.ReachedTime) return r;
    }
  }

  /** Applies every action due at or before now, in order. */
  private applyDue(): void {
    const now = this.machine.nowNs;
    while (this.next < this.actions.length && this.actions[this.next].atNs <= now) {
      this.apply(this.actions[this.next]);
      this.next += 1;
    }
  }
}

/** The most a script file may hold. */
const MAX_SCRIPT_BYTES = 1 << 20;

/**
 * Reads and parses `--script FILE` for `layout` (or for several `guests`, whose knobs are then
 * named `NAME/knob`); any problem is a usage error (exit 2).
 */
export async function loadScript(
  file: string,
  layout: Layout,
  guests: readonly { name: string; layout: Layout }[] = [],
): Promise<Action[]> {
  let read: { text: string; othersRead: boolean };
  try {
    read = await readSmallFileWithMode(file, MAX_SCRIPT_BYTES);
  } catch (e) {
    throw new UsageError(`--script ${shownPath(file)}: cannot read it (${why(e)})`);
  }
  return parseScript(read.text, shownPath(file), layout, guests, read.othersRead);
}

/**
 * Applies actions as a user's `echo VALUE > FILE` would: through the filesystem's own write. A
 * write the file refuses now (its directory unloaded by a counter fault: ENOENT) fails as echo's
 * would, and the script goes on.
 */
export function writeThrough(fs: DebugFs): ApplyAction {
  return (a) => {
    let fh: number;
    try {
      fh = fs.open(a.path);
    } catch (e) {
      if (e instanceof FsError) return;
      throw e;
    }
    try {
      fs.write(fh, Buffer.from(`${a.value}\n`, 'latin1'));
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
    } finally {
      fs.release(fh);
    }
  };
}
