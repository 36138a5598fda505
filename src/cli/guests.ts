import { LAYOUTS } from '../layout/tree';
import { LOCKS, PINNINGS } from '../sim/config';
import { configIntArg, oneOfArg, shown } from './args';
import { UsageError } from '../app/errors';
import type { GuestRequest } from '../app/plan';

/** One `--guest NAME:KEY=VALUE,…`: its name, what it sets, and the layout it asked for. */
export type GuestOption = GuestRequest;

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
        g.over.vcpus = configIntArg(f, value, 'vcpus');
        break;
      case 'lock':
        g.over.lock = oneOfArg(f, value, LOCKS);
        break;
      case 'timeout':
        g.over.timeout = configIntArg(f, value, 'timeout');
        break;
      case 'pinning':
        g.over.pinning = oneOfArg(f, value, PINNINGS);
        break;
      case 'layout':
        g.layout = oneOfArg(f, value, LAYOUTS);
        break;
      case 'weight':
        g.over.shares = configIntArg(f, value, 'shares');
        break;
      case 'seed':
        g.over.seed = configIntArg(f, value, 'seed');
        break;
      default:
        throw new UsageError(
          `${flag} ${name}: '${shown(key)}' is not a guest key (expected ${GUEST_KEYS.join(', ')})`,
        );
    }
  }
  return g;
}
