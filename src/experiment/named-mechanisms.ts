import type { SimConfig } from '../sim/config';
import { MECHANISM_KEYS, MechanismKey, MECHANISMS } from '../sim/mechanisms';
import type { Lookup, NamedCell, NamedExperiment } from './named';

/**
 * The named experiments of the 2010 host's mechanisms (docs/mechanisms.md): each one alone, at
 * A-1x, B-2x and C-3x for both locks, against the same cells without it.
 */

const CELLS = [
  { scenario: 'A', k: 1 },
  { scenario: 'B', k: 2 },
  { scenario: 'C', k: 3 },
] as const;

/** Each mechanism of the registry, switched on alone. */
const SWITCHED: { tag: string; params: Partial<SimConfig> }[] = MECHANISM_KEYS.map((k) => ({
  tag: MECHANISMS[k].name,
  params: { [k]: true },
}));

/** Their cells (the cells without a mechanism are the plain ones the others measure). */
export const MECHANISM_CELLS: readonly NamedCell[] = SWITCHED.flatMap(({ tag, params }) =>
  CELLS.flatMap(({ scenario, k }) =>
    (['ticket', 'pv-yield'] as const).map((lock) => ({ scenario, k, lock, params, tag })),
  ),
);

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** Per cell: the Difference without → with, and each lock's time with it over without. */
function effect(get: Lookup, tag: string): { text: string; diffs: number[]; slow: number[][] } {
  const diff = (s: 'A' | 'B' | 'C', k: number, t?: string): number =>
    (get(s, k, 'ticket', t).t - get(s, k, 'pv-yield', t).t) / get(s, k, 'ticket', t).t;
  const parts: string[] = [];
  const diffs: number[] = [];
  const slow: number[][] = [];
  for (const { scenario, k } of CELLS) {
    const without = diff(scenario, k);
    const withIt = diff(scenario, k, tag);
    const ratio = (lock: 'ticket' | 'pv-yield'): number =>
      get(scenario, k, lock, tag).t / get(scenario, k, lock).t;
    diffs.push(withIt - without);
    slow.push([ratio('ticket'), ratio('pv-yield')]);
    parts.push(
      `${scenario}-${k}x Difference ${pct(without)} → ${pct(withIt)}, time ×${ratio('ticket').toFixed(3)} ticket / ×${ratio('pv-yield').toFixed(3)} pv-yield`,
    );
  }
  return { text: parts.join('; '), diffs, slow };
}

/**
 * Their verdicts, one per mechanism of the registry (the compiler checks each has one), in the
 * registry's order.
 */
const VERDICTS = {
  shadowPaging: {
    name: 'mechanism-shadow-paging',
    claim:
      "shadow paging alone (faults serialized on the VM's mmu_lock, remote TLB flushes) costs both locks time but opens no 1x gap",
    judge: (get) => {
      const e = effect(get, 'shadow-paging');
      return {
        evidence: e.text,
        shown: e.slow.every(([t, p]) => t > 1 && p > 1) && Math.abs(e.diffs[0]) < 0.01,
      };
    },
  },
  vfsLocks: {
    name: 'mechanism-vfs-locks',
    claim:
      "the 2.6.35 guest's global VFS locks alone raise the ticket lock's penalty where waiters are preempted most (C-3x) and leave 1x as it was",
    judge: (get) => {
      const e = effect(get, 'vfs-locks');
      return { evidence: e.text, shown: e.diffs[2] > 0.02 && Math.abs(e.diffs[0]) < 0.01 };
    },
  },
  ipiUnderLock: {
    name: 'mechanism-ipi-under-lock',
    claim:
      'IPIs under a lock alone: shootdowns that wait for preempted targets slow both locks under overcommit (B-2x, C-3x), the ticket lock no more than pv-yield',
    judge: (get) => {
      const e = effect(get, 'ipi-under-lock');
      const over = e.slow.slice(1);
      return {
        evidence: e.text,
        shown: over.every(([t, p]) => t > 1.02 && p > 1.02) && e.diffs[1] <= 0 && e.diffs[2] <= 0,
      };
    },
  },
} satisfies Record<MechanismKey, NamedExperiment>;

/** The verdicts, in the registry's order. */
export const MECHANISM_EXPERIMENTS: readonly NamedExperiment[] = MECHANISM_KEYS.map(
  (k) => VERDICTS[k],
);
