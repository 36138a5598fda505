import { describe, expect, it } from 'vitest';
import { defaultConfig, hogsForOvercommit, SimConfig } from '../../../src/sim/config';
import { validateConfig } from '../../../src/sim/config-check';
import { Machine } from '../../../src/sim/machine';
import { summarize } from '../../../src/sim/report';
import { Cpu, Task, TaskKind } from '../../../src/sim/task';
import { Leave, SimTracer } from '../../../src/sim/trace';
import { Act } from '../../../src/sim/vcpu';

const cell = (over: Partial<SimConfig>): SimConfig => {
  const c = { ...defaultConfig(), pinning: 'B' as const, ...over };
  return { ...c, hogs: hogsForOvercommit(3, c.vcpus, c.pcpus) };
};

/** Counts tick and wakeup preemptions of vCPUs that hold a lock (read at the switch). */
class HolderPreemptions implements SimTracer {
  byTickOrWakeup = 0;
  constructor(private readonly m: () => Machine) {}
  switched(_c: Cpu, prev: Task | null, _n: Task | null, why: Leave): void {
    if (prev === null || prev.kind !== TaskKind.Vcpu) return;
    const v = this.m().guest.vcpus[prev.index];
    if (v.act === Act.Hold && (why === Leave.Tick || why === Leave.Wakeup))
      this.byTickOrWakeup += 1;
  }
  queued(): void {}
  vcpu(): void {}
  held(): void {}
  released(): void {}
  waiters(): void {}
  mark(): void {}
}

describe("the RFC's solution (b): preemption-avoidance hints", () => {
  it('the host defers tick and wakeup preemptions of a holder, at most hintMaxDeferNs, then preempts', () => {
    const m = new Machine(cell({ lock: 'ticket', preemptHints: true }));
    const t = new HolderPreemptions(() => m);
    m.setTracer(t);
    m.runUntil(2e9);
    const h = m.host.hints;
    expect(h.granted).toBeGreaterThan(100);
    expect(h.expired).toBeLessThanOrEqual(h.granted);
    expect(h.yields).toBeLessThanOrEqual(h.granted);
    expect(h.expired + h.yields).toBeGreaterThan(0.9 * h.granted);
    // A holder is taken off its pCPU by a tick or a wakeup only when its deferral ran out.
    expect(t.byTickOrWakeup).toBeLessThanOrEqual(h.expired);
    expect(t.byTickOrWakeup).toBeGreaterThan(0);
  });

  it('fewer holders are preempted and the ticket lock finishes sooner; a longer bound defers more', () => {
    const run = (over: Partial<SimConfig>): ReturnType<typeof summarize> => {
      const m = new Machine(cell({ lock: 'ticket', loopJobs: false, jobWorkNs: 10e9, ...over }));
      m.runUntil(120e9);
      return summarize(m);
    };
    const off = run({});
    const on = run({ preemptHints: true });
    const long = run({ preemptHints: true, hintMaxDeferNs: 500_000 });
    expect(on.locks.host_preemptions_of_holders).toBeLessThan(
      off.locks.host_preemptions_of_holders,
    );
    const done = (r: ReturnType<typeof summarize>): number => (r.job.completion_ns as number[])[0];
    expect(done(on)).toBeLessThan(done(off));
    expect(long.locks.hint_deferrals_expired as number).toBeLessThan(
      on.locks.hint_deferrals_expired as number,
    );
    expect(off.locks).not.toHaveProperty('hint_deferrals_granted');
  });
});

describe("the RFC's solution (c): run-state sharing", () => {
  it('pv spinners stop spinning on a preempted holder: less spinning, counted', () => {
    for (const lock of ['pv-yield', 'pv-ticket'] as const) {
      const run = (runState: boolean): ReturnType<typeof summarize> => {
        const m = new Machine(cell({ lock, runState }));
        m.runUntil(3e9);
        return summarize(m);
      };
      const spin = (r: ReturnType<typeof summarize>): number =>
        r.vcpus.reduce((a, v) => a + (v.spinning_ns as number), 0);
      const off = run(false);
      const on = run(true);
      expect(on.locks.run_state_stops as number, lock).toBeGreaterThan(0);
      expect(spin(on), lock).toBeLessThan(spin(off));
      expect(off.locks).not.toHaveProperty('run_state_stops');
    }
  });

  it('is refused for locks without a slow path to send a spinner to', () => {
    for (const lock of ['ticket', 'tas', 'pv-qspinlock'] as const)
      expect(validateConfig(cell({ lock, runState: true })).map((p) => p.key)).toEqual([
        'runState',
      ]);
    expect(validateConfig(cell({ lock: 'pv-yield', runState: true }))).toEqual([]);
  });

  it('both options keep a run deterministic', () => {
    const run = (): string => {
      const m = new Machine(cell({ lock: 'pv-ticket', runState: true, preemptHints: true }));
      m.runUntil(500e6);
      return JSON.stringify(summarize(m));
    };
    expect(run()).toBe(run());
  });
});
