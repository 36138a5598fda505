import type { Abi } from '../debugfs/parse';
import type { DirNode } from '../debugfs/nodes';
import { ClockControl, configText, ExtraSettings, machinePort } from '../layout/port';
import { buildHostTree } from '../layout/control';
import { CounterFaults } from '../layout/counter-faults';
import { addCounterControl } from '../layout/faults';
import { buildTree, TraceControl } from '../layout/tree';
import { guestCpuNs, guestEntitlements } from '../sim/fairness';
import type { Machine } from '../sim/machine';
import type { GuestPlan, RunPlan } from './plan';

/**
 * The tree of a mount with several guests: `NAME/` per guest, laid out and behaving exactly as a
 * single guest's root (its statistics, knobs and `pvlockfs/`), and the host's `pvlockfs/` with
 * `guests`: per guest its lock, vCPUs, weight, and the CPU it has received so far against its
 * entitlement.
 */
function guestsTree(
  m: Machine,
  plans: readonly GuestPlan[],
  roots: readonly DirNode[],
  o: TreeOptions,
): DirNode {
  const { extra, control, abi, nowMs, trace } = o;
  const guests = plans.map((p, i) => ({ name: p.name, root: roots[i] }));
  const host = {
    ...machinePort(m, extra, control, trace),
    seed: m.cfg.seed,
    holderPreemptedNs: () => m.guests.reduce((ns, g) => ns + g.waste.spinNs(), 0),
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

/** How a plan's tree is built: its settings, its clock's knobs, its ABI and its recorder. */
export interface TreeOptions {
  /** `key=value` settings `pvlockfs/config` shows besides the simulation's. */
  extra: ExtraSettings;
  control: ClockControl;
  abi: Abi;
  nowMs: number;
  /** The timeline recorder (`pvlockfs/trace_ns`), on the host's control directory. */
  trace?: TraceControl;
}

/**
 * The tree of a plan and each guest's root in it: the single guest's tree is the root itself;
 * named guests get `NAME/` each (exactly a single guest's tree) under the host's root.
 */
export function planTree(
  plan: RunPlan,
  m: Machine,
  o: TreeOptions,
): { root: DirNode; guestRoots: DirNode[]; counters: CounterFaults } {
  const built = planTrees(plan, m, o);
  // The statistics of every guest go through the counter faults (pvlockfs/fault/counters).
  const counters = new CounterFaults(
    built.guestRoots.map((root, i) => ({
      stats: m.guests[i].stats,
      qstats: m.guests[i].qstats,
      root,
      layout: plan.named ? plan.guests[i].layout : plan.layout,
      prefix: plan.named ? `${plan.guests[i].name}/` : '',
    })),
    () => m.nowNs,
  );
  addCounterControl(built.root, counters, o.nowMs);
  return { ...built, counters };
}

function planTrees(
  plan: RunPlan,
  m: Machine,
  o: TreeOptions,
): { root: DirNode; guestRoots: DirNode[] } {
  if (!plan.named) {
    const root = buildTree(
      machinePort(m, o.extra, o.control, o.trace),
      o.abi,
      o.nowMs,
      plan.layout,
    );
    return { root, guestRoots: [root] };
  }
  const guestRoots = plan.guests.map((p, i) =>
    buildTree(
      machinePort(m, { ...o.extra, guest: p.name, layout: p.layout }, o.control, undefined, i),
      o.abi,
      o.nowMs,
      p.layout,
    ),
  );
  return { root: guestsTree(m, plan.guests, guestRoots, o), guestRoots };
}
