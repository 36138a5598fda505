import { describe, expect, it } from 'vitest';
import { LOCKS, SimConfig } from '../../../src/sim/config';
import { Machine } from '../../../src/sim/machine';
import { contendedNs, HANDOFF_SHARE } from '../../../src/sim/handoff';
import { LOCK_ALGORITHMS } from '../../../src/sim/lock-registry';
import { collapseParams, COLLAPSE_CURVES } from '../../../src/experiment/collapse2012';
import { defaultConfig } from '../../../src/sim/config';

/** The 1,600-cycle curve of the 2012 microbenchmark at `n` cores (a contended native lock). */
function bench(lock: SimConfig['lock'], n: number, lineRequestNs: number): SimConfig {
  return {
    ...defaultConfig(),
    ...collapseParams(COLLAPSE_CURVES[4], n, 790),
    lineRequestNs,
    lock,
    hogs: 0,
    pinning: 'A',
  };
}

/** Locks acquired in the first 20 simulated ms, and the statistics as text. */
function run(cfg: SimConfig): { taken: number; text: string } {
  const m = new Machine(cfg);
  m.runUntil(20_000_000);
  const taken = m.guest.vcpus.reduce((n, v) => n + v.acquisitions, 0);
  return { taken, text: JSON.stringify(m.guest.vcpus.map((v) => [v.acquisitions, v.timeNs])) };
}

describe('contended hand-off: the cost grows with the spinners, by how a lock spins', () => {
  it("each lock's cost per spinner beyond the first is its kind's share of lineRequestNs", () => {
    const kinds: Record<string, string> = {};
    for (const lock of LOCKS) {
      const kind = LOCK_ALGORITHMS[lock].handoff;
      kinds[lock] = kind;
      const g = new Machine({ ...defaultConfig(), lock, lineRequestNs: 300 }).guest;
      expect(g.handoffPerSpinnerNs, lock).toBe(HANDOFF_SHARE[kind] * 300);
      expect(contendedNs(g, 0)).toBe(0);
      expect(contendedNs(g, 1)).toBe(0);
      expect(contendedNs(g, 7)).toBe(Math.round(6 * HANDOFF_SHARE[kind] * 300));
    }
    // From the sources: every ticket or read-spinning lock re-reads (½ c per spinner), 4.2's
    // test-and-set retries cmpxchg (c), the queued locks hand over to one waiter (0).
    expect(kinds).toEqual({
      ticket: 'reread',
      'pv-yield': 'reread',
      'pv-ticket': 'reread',
      'directed-yield': 'reread',
      'xen-block': 'reread',
      'pv-qspinlock': 'queued',
      tas: 'exchange',
      'pv-hybrid': 'queued',
    });
    expect(HANDOFF_SHARE).toEqual({ reread: 0.5, exchange: 1, queued: 0 });
  });

  it('a queued lock runs the same whatever c; ticket and test-and-set slow down, test-and-set more', () => {
    const n = 30; // past the 1,600-cycle curve's peak (23 cores)
    expect(run(bench('pv-qspinlock', n, 600)).text).toBe(run(bench('pv-qspinlock', n, 60)).text);
    const ticket = [0, 329, 600].map((c) => run(bench('ticket', n, c)).taken);
    const tas = [0, 329, 600].map((c) => run(bench('tas', n, c)).taken);
    expect(ticket[1]).toBeLessThan(ticket[0]);
    expect(ticket[2]).toBeLessThan(ticket[1]);
    expect(tas[1]).toBeLessThan(tas[0]);
    expect(tas[2]).toBeLessThan(tas[1]);
    expect(tas[1]).toBeLessThan(ticket[1]);
  });

  it('one spinner costs nothing extra: below the collapse, c changes nothing for a lone waiter', () => {
    // Two cores: at most one spinner when the lock is released.
    expect(run(bench('ticket', 2, 600)).text).toBe(run(bench('ticket', 2, 0)).text);
    expect(run(bench('tas', 2, 600)).text).toBe(run(bench('tas', 2, 0)).text);
  });
});
