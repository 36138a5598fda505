import { describe, expect, it } from 'vitest';
import { defaultConfig, SimConfig } from '../../../src/sim/config';
import { Machine } from '../../../src/sim/machine';
import { PvQspinLock } from '../../../src/sim/locks-qspin';
import { Q } from '../../../src/sim/qstats';
import { Act } from '../../../src/sim/vcpu';
import { LOCK_ALGORITHMS } from '../../../src/sim/lock-registry';

/** A 16-vCPU guest on 16 pCPUs with one global hot lock, `hogs` CPU hogs beside it. */
function hot(lock: SimConfig['lock'], hogs: number, seed = 5): SimConfig {
  return {
    ...defaultConfig(),
    lock,
    vcpus: 16,
    pcpus: 16,
    coresPerPackage: 4,
    hotLockShare: 0.33,
    hogs,
    seed,
  };
}

/** Steps `m` in 1 ms steps to `untilNs`, calling `check` at each step. */
function stepped(m: Machine, untilNs: number, check: () => void): void {
  for (let t = 1_000_000; t <= untilNs; t += 1_000_000) {
    m.runUntil(t);
    check();
  }
}

const acquisitions = (m: Machine): number => m.guest.vcpus.reduce((n, v) => n + v.acquisitions, 0);

describe('pv-hybrid (4.15: hybrid queued/unfair pv qspinlock)', () => {
  it('is one registry line over the queued lock: its qlockstat layout and no hand-off cost per spinner', () => {
    expect(LOCK_ALGORITHMS['pv-hybrid']).toMatchObject({ layout: 'qlockstat', handoff: 'queued' });
    expect(new Machine(hot('pv-hybrid', 0)).guest.handoffPerSpinnerNs).toBe(0);
  });

  it('spins to steal only while a queue exists whose head has not set pending; 4.2 never steals', () => {
    let seen = 0;
    for (const lock of ['pv-hybrid', 'pv-qspinlock'] as const) {
      const m = new Machine(hot(lock, 16));
      const algo = m.guest.algo as PvQspinLock;
      stepped(m, 400_000_000, () => {
        for (const v of m.guest.vcpus) {
          if (v.act !== Act.QSteal) continue;
          expect(lock).toBe('pv-hybrid');
          const l = m.guest.locks[v.lock];
          // A stealer is never in the queue, and only waits beside a queue without pending.
          expect(l.queue.includes(v.index)).toBe(false);
          expect(l.queue.length).toBeGreaterThan(0);
          expect(algo.st.pending[l.index]).toBe(-1);
          seen += 1;
        }
        expect(m.guest.qstats.count[Q.LockStealing]).toBe(algo.steals);
      });
      if (lock === 'pv-qspinlock') expect(algo.steals).toBe(0);
      else expect(algo.steals).toBeGreaterThan(100);
    }
    expect(seen).toBeGreaterThan(0);
  });

  it('steals where queue heads stop spinning (overcommit), hardly at 1x; then halts less than the queued lock', () => {
    const run = (lock: SimConfig['lock'], hogs: number) => {
      const m = new Machine(hot(lock, hogs));
      m.runUntil(1_000_000_000);
      const q = m.guest.qstats.count;
      const n = acquisitions(m);
      return { steal: q[Q.LockStealing] / n, waits: (q[Q.WaitHead] + q[Q.WaitNode]) / n };
    };
    const one = run('pv-hybrid', 0);
    const two = run('pv-hybrid', 16);
    const queued = run('pv-qspinlock', 16);
    expect(one.steal).toBeLessThan(0.002);
    expect(two.steal).toBeGreaterThan(5 * one.steal);
    expect(two.steal).toBeGreaterThan(0.002);
    expect(queued.steal).toBe(0);
    expect(two.waits).toBeLessThan(queued.waits);
  });

  it('queues behind a spinning head: with pending set, a newcomer joins the queue instead of spinning to steal', () => {
    // At 1x every head spins (pending set) while the lock is held: stealers are rare and
    // everything else goes through the queue (lock_slowpath counts each head).
    const m = new Machine(hot('pv-hybrid', 0));
    m.runUntil(1_000_000_000);
    const q = m.guest.qstats.count;
    expect(q[Q.LockSlowpath]).toBeGreaterThan(1000);
    expect(q[Q.LockStealing]).toBeLessThan(q[Q.LockSlowpath] / 10);
  });
});
