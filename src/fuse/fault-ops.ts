import type { Faults, FaultOp } from '../faults/faults';

type Cb = (code: number, ...values: unknown[]) => void;
type Handler = (...args: any[]) => void;

/**
 * Which handler of the operation table each fault capability watches, and where the call's size
 * is among the arguments after the path (null: size 0): read and write count their bytes.
 */
const WATCHED: ReadonlyArray<[handler: string, op: FaultOp, sizeAt: number | null]> = [
  ['open', 'open', null],
  ['read', 'read', 2],
  ['write', 'write', 2],
  ['getattr', 'getattr', null],
  ['fgetattr', 'getattr', null],
  ['readdir', 'readdir', null],
];

/**
 * The operation table with `faults` asked before each watched operation: a failure answers its
 * errno without running the operation; a stall holds the answer (the FUSE thread waits, the
 * others go on) and then runs it, or fails it. `caller()` gives the caller's pid (0 unknown).
 */
export function withFaults(
  ops: Record<string, Handler>,
  faults: Faults,
  callerPid: () => number,
): Record<string, Handler> {
  const out: Record<string, Handler> = { ...ops };
  for (const [name, op, sizeAt] of WATCHED) {
    const inner = ops[name];
    if (inner === undefined) continue;
    out[name] = (path: string, ...rest: unknown[]) => {
      const cb = rest[rest.length - 1] as Cb;
      const size = sizeAt === null ? 0 : (rest[sizeAt] as number);
      const d = faults.decide(op, path, size, callerPid());
      if (d === null) return inner(path, ...rest);
      if ('errno' in d) return cb(-d.errno);
      void d.stall.then((errno) => (errno === null ? inner(path, ...rest) : cb(-errno)));
    };
  }
  return out;
}
