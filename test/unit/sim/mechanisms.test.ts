import { describe, expect, it } from 'vitest';
import { defaultConfig, hogsForOvercommit, LOCKS, SimConfig } from '../../../src/sim/config';
import { validateConfig } from '../../../src/sim/config-check';
import { Machine } from '../../../src/sim/machine';
import { summarize } from '../../../src/sim/report';
import { pickVfsLock, VFS_LOCKS, VfsLocks } from '../../../src/sim/mech-vfs';
import { LockSpace } from '../../../src/sim/lock-space';
import type { ShadowPaging } from '../../../src/sim/mech-mmu';
import type { IpisUnderLock } from '../../../src/sim/mech-ipi';
import { LOCK_ALGORITHMS } from '../../../src/sim/lock-registry';
import { checkInvariants, quietConfig } from './helpers';

const at = (k: number, over: Partial<SimConfig>): SimConfig => {
  const c = { ...defaultConfig(), pinning: 'B' as const, ...over };
  return { ...c, hogs: hogsForOvercommit(k, c.vcpus, c.pcpus) };
};

const run = (cfg: SimConfig, ns: number): Machine => {
  const m = new Machine(cfg);
  m.runUntil(ns);
  return m;
};

describe('the 2010 host mechanisms', () => {
  it('are all off by default, and the guest then keeps exactly its fitted lock population', () => {
    const c = defaultConfig();
    expect([c.shadowPaging, c.vfsLocks, c.ipiUnderLock]).toEqual([false, false, false]);
    expect(new Machine(c).guest.locks.length).toBe(c.locks + c.vcpus);
    expect(new Machine({ ...c, vfsLocks: true }).guest.locks.length).toBe(
      c.locks + c.vcpus + VFS_LOCKS.length,
    );
  });

  it('refuse an mmu_lock hold longer than the fault it is part of', () => {
    const p = validateConfig({ ...defaultConfig(), mmuFaultNs: 1000, mmuLockHoldNs: 1001 });
    expect(p.map((x) => x.key)).toEqual(['mmuLockHoldNs']);
  });

  it('VFS locks: path walks split over the four locks by their shares, and take the share of acquisitions set', () => {
    const cfg = defaultConfig();
    const space = new LockSpace({ ...cfg, vfsLocks: true });
    expect(space.firstVfs).toBe(cfg.locks + cfg.vcpus);
    expect(space.count).toBe(cfg.locks + cfg.vcpus + VFS_LOCKS.length);
    const counts = new Array(VFS_LOCKS.length).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[pickVfsLock(space, (i + 0.5) / n) - space.firstVfs] += 1;
    VFS_LOCKS.forEach((l, i) => expect(counts[i] / n).toBeCloseTo(l.share, 3));
    const m = run(at(2, { vfsLocks: true }), 3e9);
    const vfs = m.guest.vfs as VfsLocks;
    const expected = (1 - cfg.localLockShare - cfg.remoteLocalShare) * cfg.vfsShare;
    expect(vfs.acquisitions / m.guest.acquisitions).toBeGreaterThan(expected * 0.9);
    expect(vfs.acquisitions / m.guest.acquisitions).toBeLessThan(expected * 1.1);
    expect(vfs.contended).toBeGreaterThan(0);
  });

  it('shadow paging: faults of one vCPU never wait for the mmu_lock; several vCPUs queue on it', () => {
    const heavy = { shadowPaging: true, mmuFaultRatePerSec: 200_000, mmuLockHoldNs: 3_000 };
    const one = run(quietConfig({ ...heavy, vcpus: 1, pcpus: 1 }), 1e9).guest
      .shadow as ShadowPaging;
    expect(one.faults).toBeGreaterThan(50_000);
    expect(one.lockWaitNs).toBe(0);
    const four = run(quietConfig({ ...heavy, vcpus: 4, pcpus: 4 }), 1e9).guest
      .shadow as ShadowPaging;
    expect(four.lockWaitNs).toBeGreaterThan(0);
  });

  it('shadow paging: a remote flush forces every other running vCPU out of guest mode', () => {
    const base = quietConfig({ vcpus: 4, pcpus: 4, shadowPaging: true, remoteFlushShare: 0 });
    const none = run(base, 1e9);
    const all = run({ ...base, remoteFlushShare: 1 }, 1e9);
    expect(none.guest.shadow?.remoteFlushes).toBe(0);
    expect(all.guest.shadow?.remoteFlushes).toBe(all.guest.shadow?.faults);
    // Each flush costs the faulting vCPU and the three others remoteFlushNs: less work gets done.
    const work = (m: Machine): number => m.guest.job.doneNs + m.guest.job.completed * 4e9;
    expect(work(all)).toBeLessThan(work(none) * 0.95);
  });

  it('IPIs: with every vCPU running and interrupts on, no acknowledgement waits', () => {
    const m = run(
      quietConfig({
        vcpus: 4,
        pcpus: 4,
        ipiUnderLock: true,
        shootdownShare: 0.2,
        localLockShare: 0,
        remoteLocalShare: 0,
        irqsaveShare: 0,
      }),
      1e9,
    );
    const c = m.guest.ipis as IpisUnderLock;
    expect(c.shootdowns).toBeGreaterThan(1000);
    expect([c.deferredAcks, c.shootdownWaitNs]).toEqual([0, 0]);
  });

  it('IPIs: at 3x a shootdown waits for preempted targets, for far longer than an IPI costs', () => {
    const m = run(at(3, { ipiUnderLock: true, lock: 'ticket' }), 3e9);
    const c = m.guest.ipis as IpisUnderLock;
    expect(c.shootdowns).toBeGreaterThan(20);
    expect(c.deferredAcks).toBeGreaterThan(0);
    // The mean wait per shootdown is host-scheduling scale (a slice), not µs.
    expect(c.shootdownWaitNs / c.shootdowns).toBeGreaterThan(100_000);
    expect(c.reschedIpis).toBeGreaterThan(0);
  });

  it('all three together run every lock algorithm without a deadlock, keep the statistics consistent, and repeat exactly', () => {
    for (const lock of LOCKS) {
      const cfg = at(2, {
        lock,
        shadowPaging: true,
        vfsLocks: true,
        ipiUnderLock: true,
        pvHashEntries: 256,
      });
      const a = run(cfg, 2e9);
      expect(a.guest.acquisitions, lock).toBeGreaterThan(10_000);
      // The RFC's statistics block keeps its invariants (the locks that keep it).
      if (LOCK_ALGORITHMS[lock].rfcStats) checkInvariants(a);
      const b = run(cfg, 2e9);
      expect(JSON.stringify(summarize(b)), lock).toBe(JSON.stringify(summarize(a)));
    }
  });
});
