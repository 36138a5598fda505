import { describe, expect, it } from 'vitest';
import { defaultConfig, LOCKS, LockAlgorithm } from '../../../src/sim/config';
import { LOCK_ALGORITHMS, LockSpec } from '../../../src/sim/lock-registry';
import { Machine } from '../../../src/sim/machine';
import { summarize } from '../../../src/sim/report';
import { Histo, U64 } from '../../../src/sim/stats';
import { Act } from '../../../src/sim/vcpu';
import { oneLockOnePcpu, quietConfig, sum } from './helpers';

describe('tas: the unfair test-and-set byte lock', () => {
  it('uncontended (one vCPU): every acquisition at once, and an all-zero RFC directory', () => {
    const m = new Machine(quietConfig({ lock: 'tas', vcpus: 1, pcpus: 1 }));
    m.runUntil(200_000_000);
    expect(m.guest.acquisitions).toBeGreaterThan(1000);
    expect(m.guest.contended).toBe(0);
    const s = m.guest.stats;
    expect(s.getU64(U64.Taken)).toBe(0n);
    expect(s.getU64(U64.Released)).toBe(0n);
    expect(s.takenSlow[0]).toBe(0);
    for (const h of [Histo.Total, Histo.Spinning, Histo.Blocked]) expect(sum(s.histo[h])).toBe(0);
  });

  it('a preempted holder: the waiter spins through whole slices (no slow path, never a grant to a preempted waiter)', () => {
    const m = new Machine(oneLockOnePcpu('tas', 2));
    m.runUntil(500_000_000);
    const r = summarize(m);
    expect(m.guest.preemptedHolders).toBeGreaterThan(0);
    expect(m.guest.algo.counts.grantsToPreempted).toBe(0);
    expect(m.guest.algo.counts.yields).toBe(0);
    expect(r.locks.lock_wait_max_ns).toBeGreaterThan(1_000_000);
    // Only one holder at any time, and a waiter is always spinning (never yielding or halted).
    for (let t = 501e6; t < 700e6; t += 1e6) {
      m.runUntil(t);
      const lock = m.guest.locks[0];
      const holders = m.guest.vcpus.filter((v) => v.lock === 0 && v.act === Act.Hold);
      expect(holders.length).toBeLessThanOrEqual(1);
      for (const v of m.guest.vcpus)
        if (v.lock === 0 && v.index !== lock.holder && v.act !== Act.User)
          expect([Act.SpinPv, Act.Gap, Act.Hold]).toContain(v.act);
    }
  });

  it('overcommitted, it runs to the end of a job, deterministically', () => {
    const run = (): string => {
      const m = new Machine({
        ...defaultConfig(),
        lock: 'tas',
        hogs: 8,
        jobWorkNs: 500_000_000,
        loopJobs: false,
        seed: 3,
      });
      m.runUntil(60e9);
      expect(m.guest.job.finished).toBe(true);
      return JSON.stringify(summarize(m));
    };
    expect(run()).toBe(run());
  });
});

describe('the lock registry', () => {
  it('declares every lock once, with the layout its kernel keeps', () => {
    expect(Object.keys(LOCK_ALGORITHMS).sort()).toEqual([...LOCKS].sort());
    expect(LOCK_ALGORITHMS.tas.layout).toBe('kvm-2010');
    expect(LOCK_ALGORITHMS['pv-qspinlock'].layout).toBe('qlockstat');
  });

  it('the compiler refuses an incomplete registry', () => {
    // A registry missing a lock does not type-check (this file is type-checked by npm test).
    const incomplete = {
      ticket: LOCK_ALGORITHMS.ticket,
      'pv-yield': LOCK_ALGORITHMS['pv-yield'],
      'pv-ticket': LOCK_ALGORITHMS['pv-ticket'],
      'directed-yield': LOCK_ALGORITHMS['directed-yield'],
      'xen-block': LOCK_ALGORITHMS['xen-block'],
      'pv-qspinlock': LOCK_ALGORITHMS['pv-qspinlock'],
      tas: LOCK_ALGORITHMS.tas,
      // @ts-expect-error -- 'pv-hybrid' is missing, so this object is not a Record<LockAlgorithm, LockSpec>
    } satisfies Record<LockAlgorithm, LockSpec>;
    expect(Object.keys(incomplete)).toHaveLength(LOCKS.length - 1);
  });
});
