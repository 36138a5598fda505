import { Layout, LAYOUTS, naturalLayout } from '../layout/tree';
import { LOCKS, PINNINGS, SimConfig } from '../sim/config';
import { validateConfig } from '../sim/config-check';
import { intArg, oneOfArg, shown } from './args';
import { UsageError } from './errors';

/** One `--guest NAME:KEY=VALUE,…`: its name, what it sets, and the layout it asked for. */
export interface GuestOption {
  name: string;
  over: Partial<SimConfig>;
  layout: Layout | null;
}

/** The keys a guest takes (as the single guest's options), and what each sets. */
export const GUEST_KEYS = [
  'vcpus',
  'lock',
  'timeout',
  'pinning',
  'layout',
  'weight',
  'seed',
] as const;

/** A guest's name: a directory of the mount, so letters, digits, `.`, `_`, `-`; not `pvlockfs`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

/** Parses one `--guest` value. */
export function parseGuest(flag: string, text: string): GuestOption {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  if (!NAME.test(name) || name === 'pvlockfs')
    throw new UsageError(
      `${flag}: '${shown(name)}' is not a guest name (expected 1–32 letters, digits, '.', '_' or '-', not starting with '.' or '-', and not 'pvlockfs')`,
    );
  const g: GuestOption = { name, over: {}, layout: null };
  const body = colon < 0 ? '' : text.slice(colon + 1);
  for (const item of body === '' ? [] : body.split(',')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    const f = `${flag} ${name}: ${key}`;
    switch (key) {
      case 'vcpus':
        g.over.vcpus = intArg(f, value, 1, 256);
        break;
      case 'lock':
        g.over.lock = oneOfArg(f, value, LOCKS);
        break;
      case 'timeout':
        g.over.timeout = intArg(f, value, 0, 0xffffffff);
        break;
      case 'pinning':
        g.over.pinning = oneOfArg(f, value, PINNINGS);
        break;
      case 'layout':
        g.layout = oneOfArg(f, value, LAYOUTS);
        break;
      case 'weight':
        g.over.shares = intArg(f, value, 2, 262144);
        break;
      case 'seed':
        g.over.seed = intArg(f, value, 0, Number.MAX_SAFE_INTEGER);
        break;
      default:
        throw new UsageError(
          `${flag} ${name}: '${shown(key)}' is not a guest key (expected ${GUEST_KEYS.join(', ')})`,
        );
    }
  }
  return g;
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
export function planGuests(base: SimConfig, guests: readonly GuestOption[]): GuestPlan[] {
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
