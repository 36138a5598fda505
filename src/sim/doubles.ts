import { fail } from './assert';

/**
 * Makes the named number fields of `obj` doubles from the start, keeping their values.
 *
 * V8 stores a field that has only ever held small integers as one. Simulated times pass 2^31 ns
 * (2.1 s) early in a run; each field that then receives one changes its representation, and every
 * optimised function that touched an object of that class is thrown away and compiled again
 * (measured: the simulated second after 2.1 s ran ~15 % slower than later ones). A field that has
 * held a double once stays a double whatever it holds next, so the time-valued fields are made
 * doubles when the object is built, before any code is optimised.
 */
export function doubleFields(obj: object, keys: readonly string[]): void {
  const o = obj as Record<string, number>;
  for (const k of keys) {
    const v = o[k];
    if (typeof v !== 'number') fail(`doubleFields: ${k} is not a number field`);
    o[k] = 0.5;
    o[k] = v;
  }
}
