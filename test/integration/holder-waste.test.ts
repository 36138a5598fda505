import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHER, run } from './harness';

interface Report {
  vcpus: Record<string, number>[];
  locks: Record<string, number>;
}

/** `pvlockfs run … --json`, parsed. */
async function runJson(args: string[]): Promise<Report> {
  const r = await run(LAUNCHER, ['run', ...args, '--json'], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`run ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Report;
}

const sum = (r: Report, key: string): number => r.vcpus.reduce((n, v) => n + v[key], 0);

/** A span of simulated time, in ns. */
type Span = [number, number];
const overlap = (spans: Span[]): number =>
  Math.max(0, Math.min(...spans.map((s) => s[1])) - Math.max(...spans.map((s) => s[0])));

interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  id?: number;
  ts: number;
}

/**
 * From a timeline alone (Trace Event Format, µs with ns decimals): the time vCPUs spent spinning
 * on a lock while the vCPU holding it (or handed it) was preempted — each vCPU's `spin LX` spans
 * against the `hold LX` spans of the others and their `preempted (…)` spans.
 */
function wasteInTimeline(events: TraceEvent[]): number {
  const ns = (e: TraceEvent): number => Math.round(e.ts * 1000);
  const states = new Map<number, { span: Span; name: string }[]>();
  const holds = new Map<string, { span: Span; vcpu: number }[]>();
  const open = new Map<number, { at: number; name: string }>();
  const openHolds = new Map<string, { at: number; vcpu: number }>();
  for (const e of events) {
    if (e.pid !== 2) continue;
    if (e.ph === 'B') open.set(e.tid, { at: ns(e), name: e.name });
    if (e.ph === 'E') {
      const b = open.get(e.tid)!;
      open.delete(e.tid);
      states.set(e.tid, [...(states.get(e.tid) ?? []), { span: [b.at, ns(e)], name: b.name }]);
    }
    if (e.ph === 'b') openHolds.set(`${e.name}#${e.id}`, { at: ns(e), vcpu: e.tid });
    if (e.ph === 'e') {
      const b = openHolds.get(`${e.name}#${e.id}`)!;
      openHolds.delete(`${e.name}#${e.id}`);
      const lock = e.name.slice('hold '.length);
      holds.set(lock, [...(holds.get(lock) ?? []), { span: [b.at, ns(e)], vcpu: b.vcpu }]);
    }
  }
  expect(open.size + openHolds.size).toBe(0);
  let waste = 0;
  for (const [vcpu, spans] of states)
    for (const s of spans.filter((x) => x.name.startsWith('spin L')))
      for (const h of holds.get(s.name.slice('spin '.length)) ?? [])
        if (h.vcpu !== vcpu)
          for (const p of states.get(h.vcpu) ?? [])
            if (p.name.startsWith('preempted (')) waste += overlap([s.span, h.span, p.span]);
  return waste;
}

describe('the preempted-holder waste instrument (run --json)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-waste-'));
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('is zero where no vCPU is ever preempted: 1x, without host noise', async () => {
    const r = await runJson(
      ['--lock', 'ticket', '--overcommit', '1', '--param', 'hostNoise=false'].concat([
        '--sim-time',
        '4s',
      ]),
    );
    expect(r.locks.host_preemptions_of_holders).toBe(0);
    expect(sum(r, 'spinning_ns')).toBeGreaterThan(0);
    expect(r.locks.spinning_holder_preempted_ns).toBe(0);
    expect(r.locks.in_yield_holder_preempted_ns).toBe(0);
    expect(r.locks.holder_preempted_waste_share).toBe(0);
  });

  it("dominates the ticket lock's spinning at 4x, and is the sum of the vCPUs' parts of their spinning", async () => {
    const r = await runJson(['--lock', 'ticket', '--overcommit', '4', '--sim-time', '4s']);
    const spinning = sum(r, 'spinning_ns');
    expect(r.locks.spinning_holder_preempted_ns).toBe(sum(r, 'spinning_holder_preempted_ns'));
    expect(r.locks.spinning_holder_preempted_ns / spinning).toBeGreaterThan(0.9);
    for (const v of r.vcpus)
      expect(v.spinning_holder_preempted_ns).toBeLessThanOrEqual(v.spinning_ns);
    // The share is of the vCPUs' time on a pCPU.
    expect(r.locks.holder_preempted_waste_share).toBeGreaterThan(0.05);
  });

  it('equals, to the nanosecond, the spinning a timeline shows against preempted holders in a window', async () => {
    const args = ['--lock', 'ticket', '--overcommit', '4'];
    const before = await runJson([...args, '--sim-time', '1s']);
    const trace = join(dir, 'window.json');
    const after = await runJson([
      ...args,
      ...['--sim-time', '1050ms', '--trace', trace, '--trace-from', '1s', '--trace-for', '50ms'],
    ]);
    const { traceEvents } = JSON.parse(await fsp.readFile(trace, 'utf8')) as {
      traceEvents: TraceEvent[];
    };
    const inWindow =
      after.locks.spinning_holder_preempted_ns - before.locks.spinning_holder_preempted_ns;
    expect(inWindow).toBeGreaterThan(1e6);
    expect(wasteInTimeline(traceEvents)).toBe(inWindow);
  });
});
