import { describe, expect, it } from 'vitest';
import { ACTS, ActInfo, Doing } from '../../../src/sim/acts';
import { MECHANISM_CONFIG_KEYS } from './registry-keys';
import { MECHANISM_DEFAULTS } from '../../../src/sim/mech-config';
import { INT_RANGES, REAL_RANGES } from '../../../src/sim/config-check';
import {
  MECHANISM_KEYS,
  MechanismKey,
  MECHANISMS,
  MechanismSpec,
} from '../../../src/sim/mechanisms';
import { Act } from '../../../src/sim/vcpu';

describe('the mechanism registry: a new mechanism is one file and one line, the compiler names the rest', () => {
  it('declares every switch of MechanismConfig, and every parameter belongs to exactly one', () => {
    expect(new Set(MECHANISM_KEYS)).toEqual(
      new Set(MECHANISM_CONFIG_KEYS.filter((k) => typeof MECHANISM_DEFAULTS[k] === 'boolean')),
    );
    const params = MECHANISM_KEYS.flatMap((k) => MECHANISMS[k].params);
    expect(new Set(params).size).toBe(params.length);
    expect(new Set(params)).toEqual(
      new Set(MECHANISM_CONFIG_KEYS.filter((k) => typeof MECHANISM_DEFAULTS[k] !== 'boolean')),
    );
    // Each parameter has a range the CLI and the validation take, and a source range within it.
    for (const k of MECHANISM_KEYS)
      for (const p of MECHANISMS[k].params) {
        const range = INT_RANGES[p] ?? REAL_RANGES[p];
        expect(range, p).toBeDefined();
        const src = MECHANISMS[k].sourceRanges[p];
        expect(src, p).toBeDefined();
        expect(src?.[0]).toBeGreaterThanOrEqual(range?.[0] as number);
        expect(src?.[1]).toBeLessThanOrEqual(range?.[1] as number);
      }
  });

  it('the compiler refuses an incomplete mechanism, and a registry missing one', () => {
    // A mechanism without its counters is not a MechanismSpec (this file is type-checked by npm test).
    // @ts-expect-error -- counters is missing
    const incomplete: MechanismSpec = { name: 'x', help: 'x', params: [], sourceRanges: {} };
    expect(incomplete.name).toBe('x');
    const missing = {
      shadowPaging: MECHANISMS.shadowPaging,
      vfsLocks: MECHANISMS.vfsLocks,
      // @ts-expect-error -- ipiUnderLock is missing, so this is not a Record<MechanismKey, MechanismSpec>
    } satisfies Record<MechanismKey, MechanismSpec>;
    expect(Object.keys(missing)).toHaveLength(MECHANISM_KEYS.length - 1);
  });
});

describe('the activity table: a lock with a new state adds one row, the compiler names it', () => {
  it('classifies every activity once', () => {
    const acts = Object.keys(ACTS).map(Number);
    expect(acts).toEqual(acts.map((_, i) => i));
    expect(ACTS[Act.PleSleep]).toEqual({ waiting: true, spinning: false, doing: Doing.Blocked });
  });

  it('the compiler refuses a table missing an activity', () => {
    const { [Act.QHalted]: _dropped, ...rest } = ACTS;
    // @ts-expect-error -- Act.QHalted is missing, so this is not a Record<Act, ActInfo>
    const incomplete: Record<Act, ActInfo> = rest;
    expect(Object.keys(incomplete)).toHaveLength(Object.keys(ACTS).length - 1);
  });
});
