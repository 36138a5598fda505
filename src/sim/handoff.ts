import type { Guest } from './guest';
import { TaskState } from './task';
import type { Act, GuestLock, Vcpu } from './vcpu';

/*
 * The costs of handing a lock over, shared by every lock algorithm: moving the lock's cache line,
 * the winning exchange, which running spinner's exchange lands first, and a hand-off that finds
 * its waiter inside a VM-exit stall; and the stalls themselves.
 */

/**
 * How a lock's spinners wait on its cache line, which sets what one hand-off costs per running
 * spinner beyond the first (times `lineRequestNs`, the home's answer to one request): a ticket or
 * read-spinning byte lock's release is re-read by every spinner, one request at a time, and the
 * new owner's request comes on average halfway (½); a test-and-set lock whose spinners retry the
 * exchange takes the line exclusive once per spinner before the winner's holds (1); a queued lock
 * hands over to one waiter spinning on a line of its own (0).
 */
export const HANDOFF_SHARE = { reread: 0.5, exchange: 1, queued: 0 } as const;
/** A hand-off kind (a lock registry entry's `handoff`). */
export type HandoffKind = keyof typeof HANDOFF_SHARE;

/** What `spinners` running spinners on a released lock's line add to its hand-off. */
export function contendedNs(g: Guest, spinners: number): number {
  return spinners > 1 ? Math.round(g.handoffPerSpinnerNs * (spinners - 1)) : 0;
}

/** Cost of moving a lock's cache line between two pCPUs of `g`'s host. */
export function transferNs(g: Guest, fromCpu: number, toCpu: number): number {
  if (fromCpu < 0 || fromCpu === toCpu) return 0;
  const per = g.cfg.coresPerPackage;
  return Math.floor(fromCpu / per) === Math.floor(toCpu / per)
    ? g.cfg.samePackageTransferNs
    : g.cfg.crossPackageTransferNs;
}

/** Latency of `v`'s successful atomic exchange on the lock it is acquiring (`v.lock`). */
export function xchgLatencyNs(g: Guest, v: Vcpu): number {
  return g.cfg.xchgNs + transferNs(g, g.lockTable.lastCpu(v.lock), v.task.cpu);
}

/**
 * Of the `candidates` (vCPU indices, ties go to the earlier) that run and spin in `act` on
 * `lock`, the one whose exchange lands first (the nearest cache line, counted from when its
 * guest code resumes) and its latency, the contended hand-off's share included (every running
 * spinner counts); null if none.
 */
export function firstToExchange(
  g: Guest,
  lock: GuestLock,
  act: Act,
  candidates: readonly number[],
): { v: Vcpu; latencyNs: number } | null {
  let best: Vcpu | null = null;
  let bestAt = Infinity;
  let bestLatency = 0;
  let spinners = 0;
  for (const i of candidates) {
    const w = g.vcpus[i];
    if (w.act !== act || w.task.state !== TaskState.Running || g.locks[w.lock] !== lock) continue;
    spinners += 1;
    const latency = xchgLatencyNs(g, w);
    const at = Math.max(g.now, w.task.resumeAtNs) + latency;
    if (at < bestAt) {
      best = w;
      bestAt = at;
      bestLatency = latency;
    }
  }
  return best === null ? null : { v: best, latencyNs: bestLatency + contendedNs(g, spinners) };
}

/**
 * A stall in progress when a waiter is handed the lock delays its pick-up (renewal argument:
 * in a stall with probability rate × length, residual uniform).
 */
export function pickupStallNs(g: Guest, v: Vcpu): number {
  const cfg = g.cfg;
  if (!cfg.stalls || cfg.stallNs === 0) return 0;
  const p = Math.min(1, (cfg.stallRatePerSec * cfg.stallNs) / 1e9);
  if (g.rng.uniform() >= p) return 0;
  const d = g.rng.int(0, cfg.stallNs);
  v.overheadNs += d;
  g.stalls += 1;
  return d;
}

/**
 * Running time the µs-scale VM-exit stalls landing inside `ns` of `v`'s guest code add
 * (Poisson), and with shadow paging its faults (`ptLockHold`: the stretch is a hold of the
 * vCPU's page-table lock).
 */
export function stallsIn(g: Guest, v: Vcpu, ns: number, ptLockHold = false): number {
  const cfg = g.cfg;
  const faults = g.shadow === null ? 0 : g.shadow.faultsIn(v, ns, ptLockHold);
  if (!cfg.stalls || cfg.stallNs === 0) return faults;
  const n = v.rng.poissonIn(cfg.stallRatePerSec, ns);
  if (n === 0) return faults;
  g.stalls += n;
  v.overheadNs += n * cfg.stallNs;
  return faults + n * cfg.stallNs;
}
