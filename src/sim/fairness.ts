import type { Machine } from './machine';

/**
 * Entitlements of groups sharing `capacity` pCPUs by weight, each able to use at most `threads`
 * pCPUs (one per task): weighted max-min fairness, as CFS's group shares give when every task
 * is runnable. A group that cannot use its weighted part leaves the rest to the others.
 */
export function entitlements(
  capacity: number,
  groups: readonly { shares: number; threads: number }[],
): number[] {
  const out = groups.map(() => 0);
  let left = capacity;
  let open = groups.map((_, i) => i).filter((i) => groups[i].threads > 0);
  while (open.length > 0 && left > 1e-12) {
    const total = open.reduce((a, i) => a + groups[i].shares, 0);
    const capped = open.filter(
      (i) => (left * groups[i].shares) / total >= groups[i].threads - out[i],
    );
    if (capped.length === 0) {
      for (const i of open) out[i] += (left * groups[i].shares) / total;
      break;
    }
    for (const i of capped) {
      left -= groups[i].threads - out[i];
      out[i] = groups[i].threads;
    }
    open = open.filter((i) => !capped.includes(i));
  }
  return out;
}

/** CPU time each guest's vCPUs have had up to now, ns. */
export function guestCpuNs(m: Machine): number[] {
  return m.guests.map((g) => g.vcpus.reduce((a, v) => a + m.host.onCpuNs(v.task), 0));
}

/** Each guest's entitlement in pCPUs on `m`'s host (the hogs, as a group, compete too). */
export function guestEntitlements(m: Machine): number[] {
  const groups = m.guests.map((g) => ({ shares: g.cfg.shares, threads: g.cfg.vcpus }));
  groups.push({ shares: 1024, threads: m.hogCount });
  return entitlements(m.cfg.pcpus, groups).slice(0, m.guests.length);
}
