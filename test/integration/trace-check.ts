/**
 * An independent reader of pvlockfs's Trace Event JSON: it imports nothing from src/ and knows the
 * format only as the Trace Event Format document and the project's docs describe it. Returns the
 * problems it finds (empty: the trace is consistent) and what it counted.
 */

interface Ev {
  ph: string;
  name: string;
  ts: number;
  pid: number;
  tid: number;
  id?: number;
  cat?: string;
  s?: string;
  args?: Record<string, unknown>;
}

export interface TraceFile {
  displayTimeUnit: string;
  traceEvents: Ev[];
  otherData: Record<string, unknown>;
}

export interface CheckResult {
  problems: string[];
  /** Instants by name. */
  instants: Record<string, number>;
  /** Instants by process name, then by name (a trace of several guests has a process each). */
  instantsByProcess: Record<string, Record<string, number>>;
  /** Spans per track kind. */
  hostSpans: number;
  vcpuSpans: number;
  holds: number;
  firstTs: number;
  lastTs: number;
  pids: Record<string, string>;
  threadNames: string[];
}

const HOST = 'host';
const GUEST = 'guest';

interface Interval {
  start: number;
  end: number;
  where: string;
}

/** Intervals that overlap (half-open: one may end where the next starts). */
function overlaps(list: Interval[]): [Interval, Interval] | null {
  const s = [...list].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < s.length; i++) if (s[i].start < s[i - 1].end) return [s[i - 1], s[i]];
  return null;
}

export function checkTrace(t: TraceFile): CheckResult {
  const problems: string[] = [];
  const say = (p: string): void => {
    if (problems.length < 20) problems.push(p);
  };
  if (!Array.isArray(t.traceEvents)) return { ...empty(), problems: ['no traceEvents array'] };
  const pids: Record<string, string> = {};
  const threadNames: string[] = [];
  for (const e of t.traceEvents)
    if (e.ph === 'M' && e.name === 'process_name') pids[String(e.args?.name)] = String(e.pid);
    else if (e.ph === 'M' && e.name === 'thread_name') threadNames.push(String(e.args?.name));
  const hostPid = Number(pids[HOST]);
  const guestNames = Object.keys(pids).filter((n) => n === GUEST || n.startsWith(`${GUEST} `));
  if (!Number.isFinite(hostPid) || guestNames.length === 0) say('no "host" or "guest" process');
  const processOf = new Map(Object.entries(pids).map(([name, pid]) => [Number(pid), name]));
  const instantsByProcess: Record<string, Record<string, number>> = {};

  const lastTs = new Map<string, number>();
  const stacks = new Map<string, { name: string; ts: number }[]>();
  const running = new Map<string, Interval[]>(); // vCPU name → its stints on pCPUs
  const openAsync = new Map<number, Ev>();
  const lockHolds = new Map<string, Interval[]>();
  const instants: Record<string, number> = {};
  let hostSpans = 0;
  let vcpuSpans = 0;
  let holds = 0;
  let first = Infinity;
  let last = -Infinity;

  for (const e of t.traceEvents) {
    if (e.ph === 'M') continue;
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) {
      say(`event without a numeric ts: ${JSON.stringify(e)}`);
      continue;
    }
    first = Math.min(first, e.ts);
    last = Math.max(last, e.ts);
    // Timestamps per track never go back (counters are tracks of their own, by name).
    const track = e.ph === 'C' ? `C ${e.pid} ${e.name}` : `${e.pid}/${e.tid}`;
    const prev = lastTs.get(track);
    if (prev !== undefined && e.ts < prev) say(`track ${track}: ts ${e.ts} after ${prev}`);
    lastTs.set(track, e.ts);
    switch (e.ph) {
      case 'B': {
        const st = stacks.get(track) ?? [];
        st.push({ name: e.name, ts: e.ts });
        stacks.set(track, st);
        if (e.pid === hostPid && st.length > 1)
          say(`pCPU track ${e.tid} runs two tasks at ${e.ts}: ${st.map((x) => x.name).join(', ')}`);
        break;
      }
      case 'E': {
        const st = stacks.get(track) ?? [];
        const top = st.pop();
        if (top === undefined) {
          say(`track ${track}: E at ${e.ts} without a B`);
          break;
        }
        if (e.name !== undefined && e.name !== top.name)
          say(`track ${track}: E "${e.name}" closes B "${top.name}" at ${e.ts}`);
        if (e.pid === hostPid) {
          hostSpans += 1;
          // `vCPU n`, or with several guests `NAME vCPU n`: the task's identity either way.
          const m = /^(?:\S+ )?vCPU \d+$/.exec(top.name);
          if (m) {
            const list = running.get(top.name) ?? [];
            list.push({ start: top.ts, end: e.ts, where: `pCPU ${e.tid}` });
            running.set(top.name, list);
          }
        } else vcpuSpans += 1;
        break;
      }
      case 'b':
        if (e.id === undefined) say(`async begin without id at ${e.ts}`);
        else if (openAsync.has(e.id)) say(`async id ${e.id} begun twice`);
        else openAsync.set(e.id, e);
        break;
      case 'e': {
        const b = e.id === undefined ? undefined : openAsync.get(e.id);
        if (b === undefined) {
          say(`async end without begin: id ${e.id} at ${e.ts}`);
          break;
        }
        openAsync.delete(e.id as number);
        if (b.name !== e.name || b.cat !== e.cat)
          say(`async id ${e.id}: "${b.name}" ends as "${e.name}"`);
        if (e.ts < b.ts) say(`async id ${e.id} ends before it begins`);
        holds += 1;
        // A lock is named per guest: the same L<i> in two guests are two locks.
        const lockKey = `${b.pid} ${b.name}`;
        const list = lockHolds.get(lockKey) ?? [];
        list.push({ start: b.ts, end: e.ts, where: `vCPU ${b.tid}` });
        lockHolds.set(lockKey, list);
        break;
      }
      case 'i':
      case 'I': {
        instants[e.name] = (instants[e.name] ?? 0) + 1;
        const proc = processOf.get(e.pid) ?? String(e.pid);
        const by = (instantsByProcess[proc] ??= {});
        by[e.name] = (by[e.name] ?? 0) + 1;
        break;
      }
      case 'C':
        if (!e.args || Object.values(e.args).some((v) => typeof v !== 'number'))
          say(`counter ${e.name} at ${e.ts} without numeric values`);
        break;
      default:
        say(`unexpected phase ${e.ph}`);
    }
  }
  for (const [track, st] of stacks)
    if (st.length > 0) say(`track ${track}: ${st.length} span(s) never ended (${st[0].name})`);
  if (openAsync.size > 0) say(`${openAsync.size} async span(s) never ended`);
  for (const [v, list] of running) {
    const o = overlaps(list);
    if (o)
      say(
        `${v} runs on ${o[0].where} and ${o[1].where} at once (${o[0].start}–${o[0].end}, ${o[1].start}–${o[1].end})`,
      );
  }
  for (const [lock, list] of lockHolds) {
    const o = overlaps(list);
    if (o) say(`${lock} has two holders: ${o[0].where} and ${o[1].where} at ${o[1].start}`);
  }
  return {
    problems,
    instants,
    instantsByProcess,
    hostSpans,
    vcpuSpans,
    holds,
    firstTs: first,
    lastTs: last,
    pids,
    threadNames,
  };
}

function empty(): CheckResult {
  return {
    problems: [],
    instants: {},
    instantsByProcess: {},
    hostSpans: 0,
    vcpuSpans: 0,
    holds: 0,
    firstTs: 0,
    lastTs: 0,
    pids: {},
    threadNames: [],
  };
}
