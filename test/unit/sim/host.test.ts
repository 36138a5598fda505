import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/sim/config';
import { Host } from '../../../src/sim/host';
import { HostListener, Task, TaskKind, TaskState } from '../../../src/sim/task';
import { EventQueue } from '../../../src/sim/queue';

const all = (n: number): Uint8Array => new Uint8Array(n).fill(1);
const quietListener: HostListener = {
  dispatched: () => undefined,
  descheduled: () => undefined,
  woke: () => undefined,
  hinted: () => false,
};

function oneCpuHost(over = {}): { host: Host; q: EventQueue } {
  const q = new EventQueue();
  const host = new Host({ ...defaultConfig(), pcpus: 1, ...over }, q, quietListener, [0]);
  return { host, q };
}

/** Runs ticks only (no task timers) up to `untilNs`. */
function runTicks(host: Host, q: EventQueue, untilNs: number): void {
  const ev = { timeNs: 0, kind: 0, target: 0, version: 0 };
  while (q.peekTime() <= untilNs) {
    q.pop(ev);
    host.advanceTo(ev.timeNs);
    if (ev.kind === 2) host.tick(ev.target);
  }
}

function hog(host: Host, i: number): Task {
  const t = host.addTask(TaskKind.Hog, i, all(1), 0);
  host.start(t);
  return t;
}

describe('Host scheduler (2.6.35 CFS)', () => {
  it('slices: latency/nr up to nr_latency tasks, then min_granularity', () => {
    const { host } = oneCpuHost();
    expect(host.sliceNs(2)).toBe(9_000_000);
    expect(host.sliceNs(3)).toBe(6_000_000);
    expect(host.sliceNs(4)).toBe(6_000_000);
  });

  it('two hogs alternate every 9 ms slice (preempted at the tick after the slice)', () => {
    const { host, q } = oneCpuHost();
    const a = hog(host, 0);
    const b = hog(host, 1);
    expect(a.state).toBe(TaskState.Running);
    runTicks(host, q, 9_000_000);
    expect(a.state).toBe(TaskState.Running);
    runTicks(host, q, 10_000_000);
    expect(b.state).toBe(TaskState.Running);
    runTicks(host, q, 100_000_000);
    expect(Math.abs(host.onCpuNs(a) - host.onCpuNs(b))).toBeLessThanOrEqual(10_000_000);
  });

  it('default yield re-picks the yielder when it is still leftmost; compat yield gives way', () => {
    for (const compatYield of [false, true]) {
      const { host, q } = oneCpuHost({ compatYield });
      const a = hog(host, 0);
      hog(host, 1);
      runTicks(host, q, 2_000_000);
      // a has run 2 ms, b none: b is leftmost, so even the default yield switches to b.
      expect(host.yield(a)).toBe(true);
      // b now runs; it has less vruntime than a, so b yielding keeps b under the default.
      const b = host.cpus[0].curr as Task;
      expect(host.yield(b)).toBe(compatYield);
    }
  });

  it('yield alone on the run queue returns at once', () => {
    const { host } = oneCpuHost();
    const a = hog(host, 0);
    expect(host.yield(a)).toBe(false);
    expect(a.state).toBe(TaskState.Running);
  });

  it('a waking sleeper gets credit (latency/2) and preempts past wakeup granularity', () => {
    const { host, q } = oneCpuHost();
    const a = hog(host, 0);
    const s = host.addTask(TaskKind.Noise, 0, all(1), 0);
    runTicks(host, q, 50_000_000);
    host.wake(s);
    expect(s.vruntime).toBe(host.cpus[0].minVruntime - 9_000_000);
    expect(s.state).toBe(TaskState.Running);
    expect(a.state).toBe(TaskState.Runnable);
  });

  it('an idle pCPU pulls a queued unpinned task', () => {
    const q = new EventQueue();
    const host = new Host({ ...defaultConfig(), pcpus: 2 }, q, quietListener, [0, 500_000]);
    const ts = [0, 1].map((i) => {
      const t = host.addTask(TaskKind.Hog, i, all(2), 0);
      host.start(t);
      return t;
    });
    runTicks(host, q, 1_000_000);
    expect(new Set(ts.map((t) => t.cpu)).size).toBe(2);
  });
});
