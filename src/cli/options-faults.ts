import { parseFailSpec } from '../faults/boot';
import { nonEmptyArg } from './args';
import { UsageError } from '../app/errors';
import type { OptionRow } from './options';

/** The mount's fault-injection options (docs/faults.md). */
export const FAULT_OPTION_SPECS: readonly OptionRow[] = [
  {
    flag: '--fail',
    arg: 'OP=I,P,S,T',
    help: "arm a fault at start, the kernel's boot form <interval>,<probability>,<space>,<times> for OP = open, read, write, getattr, readdir or stall (repeatable; the rest under pvlockfs/fault/)",
    commands: ['mount'],
    set: (o, v, f) => {
      try {
        o.fails.push(parseFailSpec(nonEmptyArg(f, v, 'OP=I,P,S,T')));
      } catch (e) {
        throw new UsageError(`${f}: ${(e as Error).message}`);
      }
    },
  },
  {
    flag: '--access-log',
    arg: 'FILE',
    help: 'a line per file operation: simulated ns, wall ms, pid, operation, path, result (- is standard error)',
    commands: ['mount'],
    set: (o, v, f) => (o.accessLog = nonEmptyArg(f, v, 'a file')),
  },
];
