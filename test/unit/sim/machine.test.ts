import { describe, expect, it } from 'vitest';
import { defaultConfig, hogsForOvercommit, Pinning } from '../../../src/sim/config';
import { Machine } from '../../../src/sim/machine';
import { summarize } from '../../../src/sim/report';
import { U64 } from '../../../src/sim/stats';
import { checkInvariants } from './helpers';

function fingerprint(m: Machine): string {
  const s = m.guest.stats;
  return JSON.stringify({
    taken: s.getU64(U64.Taken).toString(),
    released: s.getU64(U64.Released).toString(),
    ts: s.getU64(U64.TimeSpinning).toString(),
    tb: s.getU64(U64.TimeBlocked).toString(),
    tt: s.getU64(U64.TimeTotal).toString(),
    slow: s.takenSlow[0],
    histo: s.histo.map((h) => [...h]),
    report: summarize(m),
  });
}

describe('Machine determinism', () => {
  it('same seed and config ⇒ identical statistics and instruments; another seed differs', () => {
    const run = (seed: number): string => {
      const m = new Machine({ ...defaultConfig(), seed });
      m.runUntil(300_000_000);
      return fingerprint(m);
    };
    expect(run(7)).toBe(run(7));
    expect(run(7)).not.toBe(run(8));
  });

  it('knob writes at the same simulated instants reproduce exactly', () => {
    const run = (): string => {
      const m = new Machine(defaultConfig());
      m.runUntil(100_000_000);
      m.guest.stats.timeout[0] = 1;
      m.runUntil(150_000_000);
      m.guest.stats.zeroStats[0] = 1;
      m.setHogs(8);
      m.runUntil(250_000_000);
      return fingerprint(m);
    };
    expect(run()).toBe(run());
  });
});

describe('common random numbers', () => {
  /** vCPU `vcpu`'s first `n` lock choices and user-stretch lengths under `lock`. */
  const workload = (
    lock: 'ticket' | 'pv-yield' | 'pv-qspinlock',
    vcpu: number,
    n: number,
  ): string => {
    const m = new Machine({ ...defaultConfig(), lock, hogs: hogsForOvercommit(3, 4, 4), seed: 11 });
    const picks: number[] = [];
    const begin = m.guest.algo.begin.bind(m.guest.algo);
    m.guest.algo.begin = (v) => {
      if (v.index === vcpu && picks.length < n) picks.push(v.lock);
      begin(v);
    };
    m.runUntil(400_000_000);
    expect(picks.length).toBe(n);
    return picks.join(',');
  };

  it('every lock algorithm sees the same job: vCPU i draws the same lock sequence whatever the timing', () => {
    for (const v of [0, 3]) {
      const ticket = workload('ticket', v, 600);
      expect(workload('pv-yield', v, 600)).toBe(ticket);
      expect(workload('pv-qspinlock', v, 600)).toBe(ticket);
    }
    // The sequences are the vCPU's own: two vCPUs do not share one.
    expect(workload('ticket', 0, 600)).not.toBe(workload('ticket', 1, 600));
  });

  it('the timing does differ between the algorithms (the comparison is not trivial)', () => {
    const time = (lock: 'ticket' | 'pv-yield'): string => {
      const m = new Machine({ ...defaultConfig(), lock, hogs: 8, seed: 11 });
      m.runUntil(400_000_000);
      return JSON.stringify(summarize(m));
    };
    expect(time('ticket')).not.toBe(time('pv-yield'));
  });
});

describe('docs/debugfs.md §4 invariants over a seed sweep', () => {
  const pinnings: Pinning[] = ['A', 'B', 'C'];
  const timeouts = [0, 1, 1024, 0xffffffff];
  const cases = Array.from({ length: 24 }, (_, i) => ({
    seed: 1000 + i,
    pinning: pinnings[i % 3],
    overcommit: 1 + (i % 4),
    timeout: timeouts[Math.floor(i / 3) % 4],
  }));
  it.each(cases)(
    'seed $seed, pinning $pinning, $overcommit x, timeout $timeout',
    ({ seed, pinning, overcommit, timeout }) => {
      const cfg = {
        ...defaultConfig(),
        seed,
        pinning,
        timeout,
        hogs: hogsForOvercommit(overcommit, 4, 4),
      };
      const m = new Machine(cfg);
      for (let t = 50_000_000; t <= 300_000_000; t += 50_000_000) {
        m.runUntil(t);
        checkInvariants(m);
      }
      if (timeout === 0xffffffff) expect(m.guest.stats.takenSlow[0]).toBe(0);
    },
  );
});

describe('single job with a cap', () => {
  it('finishes and reports its completion time, or reports did_not_finish at the cap', () => {
    const done = new Machine({ ...defaultConfig(), loopJobs: false, jobWorkNs: 100_000_000 });
    done.runUntil(10_000_000_000);
    const r = summarize(done);
    expect(r.job.finished).toBe(true);
    expect((r.job.completion_ns as number[])[0]).toBe(done.nowNs);
    const capped = new Machine({ ...defaultConfig(), loopJobs: false, jobWorkNs: 100_000_000_000 });
    capped.runUntil(200_000_000);
    expect(summarize(capped).job.did_not_finish).toBe(true);
  });
});

describe('the hogs knob (hardening)', () => {
  it('200 toggles of 1024 hogs and back leave the host with no more tasks than one toggle does', () => {
    const m = new Machine({ ...defaultConfig(), hogs: 0 });
    const toggle = (): void => {
      m.setHogs(1024);
      m.runUntil(m.nowNs + 1_000_000);
      m.setHogs(0);
      m.runUntil(m.nowNs + 1_000_000);
    };
    toggle();
    const tasksAfterOne = m.host.tasks.length;
    for (let i = 0; i < 199; i++) toggle();
    expect(m.host.tasks.length).toBe(tasksAfterOne);
    expect(tasksAfterOne).toBe(m.cfg.vcpus + 1024 + m.cfg.pcpus);
    expect(m.hogCount).toBe(0);
    checkInvariants(m);
  });

  it('hogs taken away and brought back run again (the overcommit really changes)', () => {
    const m = new Machine({ ...defaultConfig(), hogs: 4 });
    m.setHogs(0);
    m.runUntil(50_000_000);
    m.setHogs(4);
    const hogs = m.host.tasks.filter((t) => t.kind === 1);
    const before = hogs.map((t) => m.host.onCpuNs(t));
    m.runUntil(m.nowNs + 200_000_000);
    expect(hogs.every((t, i) => m.host.onCpuNs(t) > before[i])).toBe(true);
  });
});
