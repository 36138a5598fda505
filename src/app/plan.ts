import { Layout, naturalLayout } from '../layout/tree';
import type { SimConfig } from '../sim/config';
import { Machine } from '../sim/machine';
import { validateConfig } from '../sim/config-check';
import { shown } from '../os/shown';
import { UsageError } from './errors';

/** A guest as the user asked for it: its name, what it sets, and the layout it asked for. */
export interface GuestRequest {
  name: string;
  over: Partial<SimConfig>;
  layout: Layout | null;
}

/**
 * Guest `i`'s default seed: the run's seed + i, wrapping to 0 past the largest seed (a run seed
 * near the top must not make a guest's seed invalid when the user set none).
 */
export function guestSeed(seed: number, i: number): number {
  const max = Number.MAX_SAFE_INTEGER;
  return seed <= max - i ? seed + i : i - (max - seed) - 1;
}

/** The most guests one host runs, and the most vCPUs they may have together. */
export const MAX_GUESTS = 64;
/** See `MAX_GUESTS`. */
export const MAX_TOTAL_VCPUS = 1024;

/** A guest ready to run: its name, its whole configuration and its layout. */
export interface GuestPlan {
  name: string;
  cfg: SimConfig;
  layout: Layout;
}

/**
 * The guests' configurations: the command line's model options as every guest's defaults, then
 * each guest's keys; seeds default to the run's seed + the guest's position. Each is checked
 * as the single guest is.
 */
export function planGuests(base: SimConfig, guests: readonly GuestRequest[]): GuestPlan[] {
  if (guests.length > MAX_GUESTS)
    throw new UsageError(`--guest: at most ${MAX_GUESTS} guests (got ${guests.length})`);
  const total = guests.reduce((n, g) => n + (g.over.vcpus ?? base.vcpus), 0);
  if (total > MAX_TOTAL_VCPUS)
    throw new UsageError(
      `--guest: at most ${MAX_TOTAL_VCPUS} vCPUs in all the guests together (got ${total})`,
    );
  const seen = new Set<string>();
  return guests.map((g, i) => {
    if (seen.has(g.name)) throw new UsageError(`--guest ${g.name}: given twice`);
    seen.add(g.name);
    const cfg: SimConfig = { ...base, seed: guestSeed(base.seed, i), ...g.over };
    const natural = naturalLayout(cfg.lock);
    if (g.layout !== null && g.layout !== natural)
      throw new UsageError(
        `--guest ${g.name}: layout ${g.layout} does not go with lock ${cfg.lock} (its guest keeps ${natural})`,
      );
    const p = validateConfig(cfg)[0];
    if (p)
      throw new UsageError(
        `--guest ${g.name}: ${p.key} '${shown(String(p.value))}' is not valid (expected ${p.expected})`,
      );
    return { name: g.name, cfg, layout: natural };
  });
}

/**
 * What a run or a mount simulates: the host's configuration and its guests, one or more. With no
 * `--guest` the one guest is the command line's own (`named` false): its tree is the mount's
 * root, exactly as it always was; named guests each get `NAME/`, and the host `pvlockfs/`.
 */
export interface RunPlan {
  /** The host's configuration (and the single guest's). */
  sim: SimConfig;
  /** The single guest's layout (named guests each have their own). */
  layout: Layout;
  /** Every guest, at least one. */
  guests: readonly GuestPlan[];
  /** Whether the guests were named (`--guest`). */
  named: boolean;
}

/** The plan of `sim` with the guests asked for (none: the one guest of `sim`, at the root). */
export function runPlan(
  sim: SimConfig,
  layout: Layout,
  requests: readonly GuestRequest[],
): RunPlan {
  if (requests.length === 0)
    return { sim, layout, guests: [{ name: 'guest', cfg: sim, layout }], named: false };
  return { sim, layout, guests: planGuests(sim, requests), named: true };
}

/** The guests a script may name (`NAME/knob`): none for the single guest. */
export function scriptGuests(plan: RunPlan): readonly GuestPlan[] {
  return plan.named ? plan.guests : [];
}

/** The machine of a plan: one guest as it always was, or every named guest in a CFS group. */
export function machineOf(plan: RunPlan): Machine {
  return plan.named
    ? new Machine(
        plan.sim,
        plan.guests.map((g) => ({ name: g.name, cfg: g.cfg })),
      )
    : new Machine(plan.sim);
}
