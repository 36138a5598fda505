import { describe, expect, it } from 'vitest';
import { doubleFields } from '../../../src/sim/doubles';
import { Task, TaskKind } from '../../../src/sim/task';

describe('doubleFields', () => {
  it('keeps the fields’ values (a true +0, -1, a time) and refuses a field that is not a number', () => {
    const o = { a: 0, b: -1, c: 3_000_000_000, d: 'x' };
    doubleFields(o, ['a', 'b', 'c']);
    expect(Object.is(o.a, 0)).toBe(true);
    expect([o.b, o.c]).toEqual([-1, 3_000_000_000]);
    expect(() => doubleFields(o, ['d'])).toThrow(/d is not a number field/);
    expect(() => doubleFields(o, ['missing'])).toThrow(/missing is not a number field/);
  });

  it('a new task starts with its times at 0 and no deferral', () => {
    const t = new Task(0, TaskKind.Vcpu, 0, new Uint8Array([1]), 0);
    expect([t.vruntime, t.execStartNs, t.timerEndNs, t.onCpuTotalNs, t.deferUntilNs]).toEqual([
      0, 0, 0, 0, -1,
    ]);
    expect(Object.is(t.vruntime, 0)).toBe(true);
  });
});
