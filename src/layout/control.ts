import { FsError } from '../debugfs/errors';
import { createAttr, createDir, createText, DirNode } from '../debugfs/nodes';
import type { Abi } from '../debugfs/parse';
import { MAX_HOGS } from '../sim/config';
import { GuestPort, rootMode } from './tree';

/** pvlockfs's own control directory (`pvlockfs/`), and the root of a mount with several guests. */

/**
 * The root of a mount with several guests: `NAME/` per guest, each exactly the tree `buildTree`
 * builds for one guest (its statistics, and its `pvlockfs/` with the host's clock and hogs), and
 * `pvlockfs/` for the host (`host`'s port: the clock, the hogs, the host's configuration) with
 * `guests`, one line per guest.
 */
export function buildHostTree(
  guests: readonly { name: string; root: DirNode }[],
  host: GuestPort,
  guestsText: () => string,
  abi: Abi,
  nowMs: number,
): DirNode {
  const root = createDir('', null, nowMs, rootMode(abi));
  for (const g of guests) {
    g.root.name = g.name;
    root.children.set(g.name, g.root);
  }
  buildControl(root, host, nowMs);
  createText('guests', 0o444, root.children.get('pvlockfs') as DirNode, guestsText, nowMs);
  return root;
}

/** pvlockfs's own control directory. */
export function buildControl(root: DirNode, port: GuestPort, nowMs: number): void {
  const c = createDir('pvlockfs', root, nowMs);
  createAttr(
    'running',
    0o644,
    c,
    8,
    () => BigInt(port.running()),
    (v) => port.setRunning(Number(v)),
    nowMs,
  );
  createAttr('sim_time_ns', 0o444, c, 64, () => BigInt(port.simTimeNs()), null, nowMs);
  // What lock-holder preemption wastes: the vCPUs' spinning while a lock's holder is preempted.
  createAttr(
    'holder_preempted_ns',
    0o444,
    c,
    64,
    () => BigInt(Math.round(port.holderPreemptedNs())),
    null,
    nowMs,
  );
  const advance = port.advance;
  if (advance !== null)
    createAttr(
      'advance_ns',
      0o200,
      c,
      64,
      () => 0n,
      (v) => advance(Number(v)),
      nowMs,
    );
  createAttr('seed', 0o444, c, 64, () => BigInt(port.seed), null, nowMs);
  createAttr(
    'hogs',
    0o644,
    c,
    64,
    () => BigInt(port.hogs()),
    (v) => setHogs(port, v),
    nowMs,
  );
  createText('config', 0o444, c, () => port.configText(), nowMs);
  if (port.solutions !== undefined) createText('solutions', 0o444, c, port.solutions, nowMs);
  if (port.mechanisms !== undefined) createText('mechanisms', 0o444, c, port.mechanisms, nowMs);
  const trace = port.trace;
  if (trace !== undefined) {
    const set = (v: bigint): void => trace.set(Number(v));
    createAttr('trace_ns', 0o644, c, 64, () => BigInt(trace.left()), set, nowMs);
    createText('trace_status', 0o444, c, () => trace.status(), nowMs);
  }
}

/**
 * The `hogs` knob is a u64 so that a value above the cap is refused as it was written: as a u32,
 * 4294967296 would be truncated to 0 before the range check and silently remove every hog.
 */
function setHogs(port: GuestPort, v: bigint): void {
  if (v > BigInt(MAX_HOGS)) throw new FsError('EINVAL', `hogs ${v} above ${MAX_HOGS}`);
  port.setHogs(Number(v));
}
