import { describe, expect, it } from 'vitest';
import { defaultConfig, PINNINGS, SimConfig } from '../../../src/sim/config';
import { Machine } from '../../../src/sim/machine';
import { PvQspinLock } from '../../../src/sim/locks-qspin';
import { qstatText, QSTAT_NAMES } from '../../../src/layout/qlockstat';
import { Q, QStats } from '../../../src/sim/qstats';
import { Histo, SlowCount, U64 } from '../../../src/sim/stats';
import { Act } from '../../../src/sim/vcpu';
import { oneLockOnePcpu, quietConfig, sum } from './helpers';

describe('xen-block (Xen 2.6.35 spin-then-block, xen/spinlocks)', () => {
  /** docs/debugfs.md §4 plus Xen's slow-path counters, corrected for vCPUs caught mid-acquisition. */
  function checkXen(m: Machine): void {
    const s = m.guest.stats;
    const taken = Number(s.getU64(U64.Taken));
    const acquiring = m.guest.vcpus.filter(
      (v) => v.act === Act.SpinPv || v.act === Act.XenPolled,
    ).length;
    const polled = m.guest.vcpus.filter((v) => v.act === Act.XenPolled).length;
    const completed = taken - acquiring;
    const pickups = s.slowCounts[SlowCount.Pickup];
    expect(sum(s.histo[Histo.Total])).toBe(completed);
    expect(sum(s.histo[Histo.Blocked])).toBe(s.takenSlow[0] - polled);
    // Every attempt closes with a spinning sample, except that a pickup ends the acquisition
    // inside the slow path without a new attempt.
    expect(sum(s.histo[Histo.Spinning])).toBe(completed + s.takenSlow[0] - pickups);
    expect(s.slowCounts[SlowCount.Kicked]).toBe(s.slowCounts[SlowCount.Released]);
    expect(pickups).toBeLessThanOrEqual(s.takenSlow[0]);
    expect(s.slowCounts[SlowCount.IrqEnable]).toBeLessThanOrEqual(s.takenSlow[0]);
    expect(s.slowCounts[SlowCount.Nested]).toBe(0);
    expect(s.slowCounts[SlowCount.Spurious]).toBe(0);
  }

  it('keeps the accounting exact across pinnings and overcommit, and blocks and kicks', () => {
    let slow = 0;
    let kicked = 0;
    let irq = 0;
    for (const pinning of PINNINGS) {
      for (const hogs of [0, 4, 8]) {
        const m = new Machine({
          ...defaultConfig(),
          lock: 'xen-block',
          pinning,
          hogs,
          seed: 31 + hogs,
        });
        for (let t = 250_000_000; t <= 1_000_000_000; t += 250_000_000) {
          m.runUntil(t);
          checkXen(m);
        }
        slow += m.guest.stats.takenSlow[0];
        kicked += m.guest.stats.slowCounts[SlowCount.Kicked];
        irq += m.guest.stats.slowCounts[SlowCount.IrqEnable];
      }
    }
    expect(slow).toBeGreaterThan(50);
    expect(kicked).toBeGreaterThan(0);
    expect(irq).toBeGreaterThan(0);
  });

  it('timeout 0xFFFFFFFF never blocks; same seed gives the same statistics', () => {
    const cfg: SimConfig = {
      ...defaultConfig(),
      lock: 'xen-block',
      pinning: 'C',
      timeout: 0xffffffff,
    };
    const m = new Machine(cfg);
    m.runUntil(1_000_000_000);
    expect(m.guest.stats.takenSlow[0]).toBe(0);
    expect(Number(m.guest.stats.getU64(U64.Taken))).toBeGreaterThan(1000);
    const twin = (): string => {
      const x = new Machine({ ...cfg, timeout: 1024 });
      x.runUntil(500_000_000);
      return JSON.stringify([
        x.guest.stats.getU64(U64.TimeBlocked).toString(),
        [...x.guest.stats.slowCounts],
        x.guest.stats.histo.map((h) => [...h]),
      ]);
    };
    expect(twin()).toBe(twin());
  });

  it('a blocked waiter sleeps on the host until the unlock kicks it (two vCPUs, one pCPU, long holds)', () => {
    const m = new Machine(oneLockOnePcpu('xen-block', 2));
    m.runUntil(500_000_000);
    const s = m.guest.stats;
    expect(s.takenSlow[0]).toBeGreaterThan(10);
    expect(s.slowCounts[SlowCount.Kicked]).toBeGreaterThan(10);
    // Blocked for a good part of a 3 ms critical section: samples in the ms buckets (2^20 ns ≈ 1 ms).
    expect(sum(s.histo[Histo.Blocked].slice(18))).toBeGreaterThan(0);
  });
});

describe('pv-qspinlock (4.2 pv queued spinlock, qlockstat) and pv-hybrid (4.15)', () => {
  function checkQ(m: Machine): void {
    const q = m.guest.qstats.count;
    expect(q[Q.KickWake]).toBeLessThanOrEqual(q[Q.KickUnlock]);
    expect(q[Q.WaitAgain]).toBeLessThanOrEqual(q[Q.WaitHead]);
    expect(q[Q.WaitEarly]).toBeLessThanOrEqual(q[Q.WaitNode]);
    expect(q[Q.LockPending]).toBe(0);
    // One hop at least per hash insertion; every kick unhashes one insertion.
    expect(q[Q.HashHops]).toBeGreaterThanOrEqual(q[Q.KickUnlock]);
    expect(q[Q.LatencyKick]).toBe(q[Q.KickUnlock] * m.cfg.hypercallNs);
    expect(q[Q.SpuriousWakeup]).toBe(0);
    expect(q[Q.LockStealing]).toBe((m.guest.algo as PvQspinLock).steals);
    // The RFC's statistics block is not this guest's.
    expect(m.guest.stats.getU64(U64.Taken)).toBe(0n);
    for (const l of m.guest.locks) {
      expect(l.queue.length).toBeLessThanOrEqual(m.cfg.vcpus);
      expect((m.guest.algo as PvQspinLock).st.slowWithoutSlot(l.index)).toBe(false);
    }
  }

  it.each(['pv-qspinlock', 'pv-hybrid'] as const)(
    '%s runs every scenario to completion with consistent counters, queues, halts (and the hybrid steals)',
    (lock) => {
      const total = new Float64Array(QSTAT_NAMES.length);
      for (const pinning of PINNINGS) {
        for (const hogs of [0, 4, 12]) {
          const m = new Machine({
            ...defaultConfig(),
            lock,
            pinning,
            hogs,
            seed: 7 + hogs,
            jobWorkNs: 1_000_000_000,
            loopJobs: false,
          });
          for (let t = 300_000_000; t <= 6_000_000_000 && !m.guest.job.finished; t += 300_000_000) {
            m.runUntil(t);
            checkQ(m);
          }
          expect(m.guest.job.finished).toBe(true);
          m.guest.qstats.count.forEach((x, i) => (total[i] += x));
        }
      }
      for (const q of [Q.LockSlowpath, Q.WaitHead, Q.KickUnlock, Q.KickWake])
        expect(total[q], QSTAT_NAMES[q]).toBeGreaterThan(0);
      // 4.2 steals nothing; the hybrid steals whenever a queue's head is not spinning.
      if (lock === 'pv-qspinlock') expect(total[Q.LockStealing]).toBe(0);
      else expect(total[Q.LockStealing]).toBeGreaterThan(0);
    },
  );

  it('uncontended: the fast path only, every counter 0', () => {
    const m = new Machine(quietConfig({ lock: 'pv-qspinlock', vcpus: 1, pcpus: 1 }));
    m.runUntil(100_000_000);
    expect(m.guest.acquisitions).toBeGreaterThan(100);
    expect([...m.guest.qstats.count]).toEqual(QSTAT_NAMES.map(() => 0));
  });

  it('a preempted holder sends the queue head to pv_wait and the unlock kicks it (two vCPUs, one pCPU)', () => {
    const m = new Machine(oneLockOnePcpu('pv-qspinlock', 2));
    m.runUntil(500_000_000);
    const q = m.guest.qstats.count;
    expect(q[Q.LockSlowpath]).toBeGreaterThan(10);
    expect(q[Q.WaitHead]).toBeGreaterThan(10);
    expect(q[Q.KickUnlock]).toBeGreaterThan(10);
    expect(qstatText(m.guest.qstats, 'pv_hash_hops')).toBe('1.00\n');
  });

  it('a queued node behind a halted head waits early (three vCPUs, one pCPU)', () => {
    const m = new Machine(oneLockOnePcpu('pv-qspinlock', 3, 500_000));
    m.runUntil(1_000_000_000);
    const q = m.guest.qstats.count;
    expect(q[Q.WaitNode]).toBeGreaterThan(0);
    expect(q[Q.WaitEarly]).toBeGreaterThan(0);
  });

  it('same seed, same counters; another seed differs', () => {
    const run = (seed: number): string => {
      const m = new Machine({ ...defaultConfig(), lock: 'pv-qspinlock', pinning: 'C', seed });
      m.runUntil(800_000_000);
      return QSTAT_NAMES.map((n) => qstatText(m.guest.qstats, n)).join('');
    };
    expect(run(5)).toBe(run(5));
    expect(run(5)).not.toBe(run(6));
  });
});

describe('qlockstat text (qstat_read)', () => {
  const cases: [string, Partial<Record<Q, number>>, string][] = [
    ['pv_kick_unlock', { [Q.KickUnlock]: 12345 }, '12345\n'],
    ['pv_hash_hops', {}, '0.00\n'],
    ['pv_hash_hops', { [Q.HashHops]: 7 }, '7.00\n'],
    ['pv_hash_hops', { [Q.HashHops]: 3, [Q.KickUnlock]: 2 }, '1.50\n'],
    ['pv_hash_hops', { [Q.HashHops]: 2, [Q.KickUnlock]: 3 }, '0.67\n'],
    ['pv_hash_hops', { [Q.HashHops]: 1, [Q.KickUnlock]: 200 }, '0.01\n'],
    ['pv_hash_hops', { [Q.HashHops]: 1, [Q.KickUnlock]: 201 }, '0.00\n'],
    // remainder 995 of 1000 → 99.5 rounds to 100: the kernel prints ".100".
    ['pv_hash_hops', { [Q.HashHops]: 1995, [Q.KickUnlock]: 1000 }, '1.100\n'],
    ['pv_latency_kick', { [Q.LatencyKick]: 5000 }, '5000\n'],
    ['pv_latency_kick', { [Q.LatencyKick]: 5, [Q.KickUnlock]: 2 }, '3\n'],
    ['pv_latency_kick', { [Q.LatencyKick]: 4, [Q.KickUnlock]: 3 }, '1\n'],
    ['pv_latency_wake', { [Q.LatencyWake]: 10, [Q.KickWake]: 4, [Q.KickUnlock]: 1 }, '3\n'],
    ['lock_pending', {}, '0\n'],
  ];
  it.each(cases)('%s with %j reads %j', (name, set, text) => {
    const q = new QStats();
    for (const [k, v] of Object.entries(set)) q.count[Number(k)] = v as number;
    expect(qstatText(q, name as (typeof QSTAT_NAMES)[number])).toBe(text);
  });

  it('reset clears every counter', () => {
    const q = new QStats();
    q.count.fill(9);
    q.reset();
    expect(QSTAT_NAMES.map((n) => qstatText(q, n)).join('')).toBe(
      QSTAT_NAMES.map((n) => (n === 'pv_hash_hops' ? '0.00\n' : '0\n')).join(''),
    );
  });
});

describe('local locks (one per vCPU, mostly its own, long holds)', () => {
  const acquisitionsByLock = (
    over: Partial<SimConfig>,
  ): { m: Machine; own: number; remote: number; shared: number } => {
    const m = new Machine(quietConfig({ vcpus: 3, pcpus: 3, lock: 'ticket', ...over }));
    const own = [0, 0, 0];
    let remote = 0;
    let shared = 0;
    const g = m.guest;
    // Count what each acquisition picks by wrapping the algorithm's entry point.
    const begin = g.algo.begin.bind(g.algo);
    g.algo.begin = (v) => {
      if (v.lock === m.cfg.locks + v.index) own[v.index] += 1;
      else if (v.lock >= m.cfg.locks) remote += 1;
      else shared += 1;
      begin(v);
    };
    m.runUntil(200_000_000);
    return { m, own: own.reduce((a, b) => a + b, 0), remote, shared };
  };

  it('off: every acquisition goes to the shared population', () => {
    const r = acquisitionsByLock({ localLockShare: 0, remoteLocalShare: 0 });
    expect(r.own + r.remote).toBe(0);
    expect(r.shared).toBeGreaterThan(1000);
  });

  it('localLockShare and remoteLocalShare split acquisitions as configured; own holds use localHoldNsMean', () => {
    const r = acquisitionsByLock({
      localLockShare: 0.3,
      remoteLocalShare: 0.1,
      localHoldNsMean: 50_000,
    });
    const total = r.own + r.remote + r.shared;
    expect(r.own / total).toBeGreaterThan(0.25);
    expect(r.own / total).toBeLessThan(0.35);
    expect(r.remote / total).toBeGreaterThan(0.07);
    expect(r.remote / total).toBeLessThan(0.13);
    // Own local holds of 50 µs instead of 1 µs take running time: fewer acquisitions fit, in the
    // proportion of the running time each acquisition costs (user stretch share + gap + hold).
    const short = acquisitionsByLock({
      localLockShare: 0.3,
      remoteLocalShare: 0.1,
      localHoldNsMean: 1_000,
    });
    const c = r.m.cfg;
    const perAcq = (localHold: number): number =>
      c.userNsMean / c.burstAcquisitionsMean + c.gapNsMean + 0.3 * localHold + 0.7 * c.holdNsMean;
    const predicted = perAcq(1_000) / perAcq(50_000);
    expect(predicted).toBeLessThan(0.9);
    expect(total / (short.own + short.remote + short.shared)).toBeCloseTo(predicted, 1);
  });

  it('a share sum above 1 is refused', () => {
    expect(
      () => new Machine({ ...defaultConfig(), localLockShare: 0.8, remoteLocalShare: 0.3 }),
    ).toThrow(/remoteLocalShare/);
  });
});
