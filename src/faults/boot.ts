import { FAULT_OPS, FaultOp, Faults } from './faults';

/** A capability of the one-line form: a file operation's `fail_OP`, or `stall`. */
export type FailTarget = FaultOp | 'stall';

/** The kernel's boot form of a capability's attributes: `<interval>,<probability>,<space>,<times>`. */
export interface FailSpec {
  target: FailTarget;
  interval: number;
  probability: number;
  space: number;
  times: number;
}

const TARGETS: readonly FailTarget[] = [...FAULT_OPS, 'stall'];

/**
 * Parses `OP=<interval>,<probability>,<space>,<times>` (`read=1,100,0,-1`), the kernel's
 * `fail_*=` boot option for one capability; throws an Error saying what is wrong.
 */
export function parseFailSpec(text: string): FailSpec {
  const eq = text.indexOf('=');
  const target = text.slice(0, eq < 0 ? text.length : eq);
  if (!(TARGETS as readonly string[]).includes(target))
    throw new Error(`${quoted(target)} is not one of ${TARGETS.join(', ')}`);
  const fields = eq < 0 ? [] : text.slice(eq + 1).split(',');
  if (fields.length !== 4 || !fields.every((f) => /^-?[0-9]+$/.test(f)))
    throw new Error(
      `${target}= takes <interval>,<probability>,<space>,<times>, e.g. ${target}=1,100,0,-1`,
    );
  const [interval, probability, space, times] = fields.map(Number);
  if (interval < 1) throw new Error(`${target}: interval ${interval} below 1`);
  if (probability < 0 || probability > 100)
    throw new Error(`${target}: probability ${probability} is not a percentage from 0 to 100`);
  if (space < 0 || space > 0x7fffffff) throw new Error(`${target}: space ${space} out of range`);
  if (times < -1 || times > 0x7fffffff) throw new Error(`${target}: times ${times} below -1`);
  return { target: target as FailTarget, interval, probability, space, times };
}

/** Sets a capability's attributes from the one-line form. */
export function applyFailSpec(faults: Faults, s: FailSpec): void {
  const attr = s.target === 'stall' ? faults.stall.attr : faults.fail[s.target].attr;
  attr.interval = s.interval;
  attr.probability = s.probability;
  attr.space = s.space;
  attr.times = s.times;
}

/** A word as a message quotes it: JSON, cut to 40 characters (argv may hold anything). */
export function quoted(word: string): string {
  return JSON.stringify(word.length > 40 ? `${word.slice(0, 40)}…` : word);
}
