import { describe, expect, it, vi } from 'vitest';
import { LiveDriver } from '../../../src/app/live';
import { defaultConfig } from '../../../src/sim/config';
import { Machine } from '../../../src/sim/machine';

/** A wall clock that is 0.2 ms later at every reading: a 0.5-ms slice ends after a few. */
function steppingClock(): () => number {
  let t = 0;
  return () => (t += 0.2);
}

describe('LiveDriver', () => {
  it('when a slice ends behind the wall clock, the next one is queued right after pending I/O, and runs', async () => {
    const m = new Machine(defaultConfig());
    // Far behind from the first slice: 10^5 simulated ns per wall ns.
    const d = new LiveDriver(m, 1e5, undefined, { clockMs: steppingClock() });
    d.start();
    try {
      d.step();
      expect(d.catchingUp).toBe(true);
      const after = m.nowNs;
      expect(after).toBeGreaterThan(0);
      await new Promise((r) => setImmediate(r));
      expect(m.nowNs).toBeGreaterThan(after);
      expect(d.catchingUp).toBe(true);
    } finally {
      d.stop();
    }
    expect(d.catchingUp).toBe(false);
  });

  it('while file operations come in, the next slice of a driver that is behind waits a millisecond; without them it waits only for pending I/O', async () => {
    const m = new Machine(defaultConfig());
    const d = new LiveDriver(m, 1e5, undefined, { clockMs: steppingClock() });
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    const immediates = vi.spyOn(globalThis, 'setImmediate');
    d.start();
    try {
      d.noteOperation();
      d.step();
      expect(d.catchingUp).toBe(true);
      expect(timeouts.mock.calls.map((c) => c[1])).toEqual([1]);
      expect(immediates).not.toHaveBeenCalled();
      // The paused slice runs (and, nobody reading meanwhile, queues the next at once).
      const before = m.nowNs;
      await vi.waitFor(() => expect(m.nowNs).toBeGreaterThan(before), { timeout: 10_000 });
      await vi.waitFor(() => expect(immediates).toHaveBeenCalled(), { timeout: 10_000 });
    } finally {
      d.stop();
      timeouts.mockRestore();
      immediates.mockRestore();
    }
    expect(d.catchingUp).toBe(false);
  });

  it('a slice that reaches the wall clock queues nothing: the next waits for the period', () => {
    const m = new Machine(defaultConfig());
    const d = new LiveDriver(m, 1e-6, undefined, { clockMs: steppingClock() });
    d.start();
    try {
      d.step();
      expect(d.catchingUp).toBe(false);
    } finally {
      d.stop();
    }
  });

  it('a paused driver runs no slice and queues none', () => {
    const m = new Machine(defaultConfig());
    const d = new LiveDriver(m, 1e5, undefined, { paused: true, clockMs: steppingClock() });
    d.start();
    try {
      d.step();
      expect([m.nowNs, d.catchingUp]).toEqual([0, false]);
    } finally {
      d.stop();
    }
  });
});

describe('LiveDriver.advance (pvlockfs/advance_ns)', () => {
  it('runs in slices that let the event loop turn, and ends exactly where one long run ends', async () => {
    const stepped = new Machine(defaultConfig());
    const d = new LiveDriver(stepped, 1, undefined, { paused: true });
    let turns = 0;
    const ticker = setInterval(() => (turns += 1), 0);
    try {
      await d.advance(3e9);
    } finally {
      clearInterval(ticker);
    }
    const whole = new Machine(defaultConfig());
    whole.runUntil(3e9);
    expect(stepped.nowNs).toBe(3e9);
    expect([stepped.events, stepped.nowNs]).toEqual([whole.events, whole.nowNs]);
    expect(turns).toBeGreaterThan(0);
  });

  it('steps written together run one after another; running=1 meanwhile is EBUSY; a stop ends a step with ECANCELED and refuses new ones', async () => {
    const m = new Machine(defaultConfig());
    const d = new LiveDriver(m, 1, undefined, { paused: true });
    const first = d.advance(1e9);
    const second = d.advance(1e9);
    expect(d.stepping).toBe(true);
    expect(() => d.runningKnob.set(1)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    await first;
    expect(m.nowNs).toBeGreaterThanOrEqual(1e9);
    await second;
    expect([m.nowNs, d.stepping]).toEqual([2e9, false]);
    const long = d.advance(600e9);
    d.stop();
    await expect(long).rejects.toMatchObject({ code: 'ECANCELED' });
    expect(() => d.advance(1)).toThrow(expect.objectContaining({ code: 'ECANCELED' }));
    expect(m.nowNs).toBeLessThan(600e9);
  });
});
