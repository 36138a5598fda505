import type { Abi } from '../debugfs/parse';
import type { DirNode } from '../debugfs/nodes';
import { ClockControl, configText, ExtraSettings, machinePort } from '../layout/port';
import { buildHostTree } from '../layout/control';
import { buildTree, TraceControl } from '../layout/tree';
import { guestCpuNs, guestEntitlements } from '../sim/fairness';
import type { Machine } from '../sim/machine';
import type { GuestPlan } from './guests';

/**
 * The tree of a mount with several guests: `NAME/` per guest, laid out and behaving exactly as a
 * single guest's root (its statistics, knobs and `pvlockfs/`), and the host's `pvlockfs/` with
 * `guests`: per guest its lock, vCPUs, weight, and the CPU it has received so far against its
 * entitlement.
 */
export function guestsTree(
  m: Machine,
  plans: readonly GuestPlan[],
  extra: ExtraSettings,
  control: ClockControl,
  abi: Abi,
  nowMs: number,
  trace?: TraceControl,
  roots?: readonly DirNode[],
): DirNode {
  // Each guest's root: built here, or given (a headless run reads them on their own too).
  const guests = plans.map((p, i) => ({
    name: p.name,
    root:
      roots?.[i] ??
      buildTree(
        machinePort(m, { ...extra, guest: p.name, layout: p.layout }, control, undefined, i),
        abi,
        nowMs,
        p.layout,
      ),
  }));
  const host = {
    ...machinePort(m, extra, control, trace),
    seed: m.cfg.seed,
    configText: () =>
      configText(
        m.cfg,
        { hogs: m.hogCount, timeout: m.cfg.timeout },
        {
          ...extra,
          guests: plans.map((p) => p.name).join(','),
        },
      ),
  };
  const ent = guestEntitlements(m);
  const guestsText = (): string => {
    const cpu = guestCpuNs(m);
    const now = m.nowNs;
    return plans
      .map((p, i) => {
        const got = now > 0 ? cpu[i] / now : 0;
        return `${p.name} lock=${p.cfg.lock} vcpus=${p.cfg.vcpus} weight=${p.cfg.shares} received_pcpus=${got.toFixed(4)} entitlement_pcpus=${ent[i].toFixed(4)} received_over_entitlement=${(got / ent[i]).toFixed(4)}\n`;
      })
      .join('');
  };
  return buildHostTree(guests, host, guestsText, abi, nowMs);
}
