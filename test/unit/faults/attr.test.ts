import { describe, expect, it } from 'vitest';
import { FaultAttr } from '../../../src/faults/attr';

/** Which of `n` calls of `size` bytes by `pid` fail (1-based call numbers). */
function failing(a: FaultAttr, n: number, size = 1, pid = 100): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if (a.shouldFail(size, pid)) out.push(i);
  return out;
}

function attr(set: Partial<FaultAttr> = {}): FaultAttr {
  return Object.assign(new FaultAttr('fail_read', 1), set);
}

describe("the kernel's fault attributes (should_fail_ex)", () => {
  it('defaults as the kernel: probability 0, interval 1, times 1, space 0, verbose 2, no task filter', () => {
    const a = new FaultAttr('fail_read', 1);
    expect([
      a.probability,
      a.interval,
      a.times,
      a.space,
      a.verbose,
      a.taskFilter,
      a.failNth,
    ]).toEqual([0, 1, 1, 0, 2, false, 0]);
  });

  it('probability 0 never fails, whatever else is set', () => {
    expect(failing(attr({ times: -1, interval: 1 }), 10_000)).toEqual([]);
  });

  it('times counts down and stops at 0; -1 never stops', () => {
    const once = attr({ probability: 100 });
    expect(failing(once, 5)).toEqual([1]);
    expect(once.times).toBe(0);
    const three = attr({ probability: 100, times: 3 });
    expect(failing(three, 10)).toEqual([1, 2, 3]);
    const always = attr({ probability: 100, times: -1 });
    expect(failing(always, 1000)).toHaveLength(1000);
    expect(always.times).toBe(-1);
  });

  it('interval 3 (probability 100) fails every third eligible call', () => {
    expect(failing(attr({ probability: 100, times: -1, interval: 3 }), 12)).toEqual([3, 6, 9, 12]);
  });

  it("space absorbs the calls' sizes until it is spent, then calls fail", () => {
    const a = attr({ probability: 100, times: -1, space: 10 });
    // 4 + 4 spend 8 (left 2); the third call of 4 is larger than what is left: it fails.
    expect(failing(a, 4, 4)).toEqual([3, 4]);
    expect(a.space).toBe(2);
  });

  it('fail-nth: the Nth call fails with nothing else checked (even probability 0), then reads 0', () => {
    const a = attr({ failNth: 3 });
    expect(failing(a, 6)).toEqual([3]);
    expect(a.failNth).toBe(0);
  });

  it('the order: times 0 is checked before space, so a spent times leaves space untouched', () => {
    const a = attr({ probability: 100, times: 0, space: 10 });
    expect(failing(a, 3, 4)).toEqual([]);
    expect(a.space).toBe(10);
  });

  it('the order: space is spent before interval counts, and interval counts before the draw', () => {
    const a = attr({ probability: 100, times: -1, space: 2, interval: 2 });
    // Call 1 (size 1) is absorbed (space 2 > 1 → 1 left); call 2: space 1 is not > 1, so it goes
    // on: interval count 1 (odd: no); call 3: count 2: fails.
    expect(failing(a, 3)).toEqual([3]);
  });

  it('the task filter fails only the pids marked to fail', () => {
    const a = attr({ probability: 100, times: -1, taskFilter: true });
    a.tasks.add(7);
    expect([a.shouldFail(1, 6), a.shouldFail(1, 7), a.shouldFail(1, 0)]).toEqual([
      false,
      true,
      false,
    ]);
  });

  it('a probability draws from a seeded stream: the same seed fails the same calls', () => {
    const runA = failing(attr({ probability: 30, times: -1 }), 1000);
    const runB = failing(attr({ probability: 30, times: -1 }), 1000);
    expect(runA).toEqual(runB);
    // About 30 % (binomial, 1000 calls: 30 % ± 5 points is > 99.9 % likely for a fair stream).
    expect(runA.length).toBeGreaterThan(250);
    expect(runA.length).toBeLessThan(350);
    const other = new FaultAttr('fail_read', 2);
    Object.assign(other, { probability: 30, times: -1 });
    expect(failing(other, 1000)).not.toEqual(runA);
  });

  it("logs in the kernel's words, with times before it is spent", () => {
    const a = attr({ probability: 100, times: 2, interval: 1 });
    a.shouldFail(1, 1);
    expect(a.lastLog).toBe(
      'FAULT_INJECTION: forcing a failure.\nname fail_read, interval 1, probability 100, space 0, times 2',
    );
  });
});
