import { defaultConfig, LOCKS, PINNINGS, PLES, SimConfig } from '../sim/config';
import { INT_RANGES, REAL_RANGES } from '../sim/config-check';

/** A parameter's unit, from its name (the model's naming: …Ns in ns, …Share a fraction, …). */
function unitOf(key: string): string {
  if (key.endsWith('Ns')) return 'ns';
  if (key.endsWith('PerSec')) return 'per second';
  if (/Share$|Probability$/.test(key)) return 'fraction';
  return '';
}

/** A parameter's allowed values, from the one check of a configuration. */
function rangeOf(key: keyof SimConfig, value: unknown): string {
  const int = INT_RANGES[key];
  if (int) return `${int[0]}–${int[1]}, whole`;
  const real = REAL_RANGES[key];
  if (real) return `${real[0]}–${real[1]}`;
  if (key === 'lock') return LOCKS.join(' | ');
  if (key === 'pinning') return PINNINGS.join(' | ');
  if (key === 'ple') return PLES.join(' | ');
  if (typeof value === 'boolean') return 'true | false';
  return '';
}

/**
 * `pvlockfs help params`: every key `--param KEY=VALUE` takes, with its default, its unit and its
 * range, derived from the defaults and the ranges the configuration check uses (so it cannot go
 * stale); what each means and where its value comes from is in docs/model.md and docs/mechanisms.md.
 */
export function paramsHelp(): string {
  const rows = Object.entries(defaultConfig()).map(([key, value]) => [
    key,
    String(value),
    unitOf(key),
    rangeOf(key as keyof SimConfig, value),
  ]);
  const head = ['key', 'default', 'unit', 'range'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return `Every model parameter, for --param KEY=VALUE (run, mount, experiment; repeatable). The
running values are in pvlockfs/config of a mount. What each one means and the source of its
default: docs/model.md (Parameters) and docs/mechanisms.md (the 2010 host's mechanisms).

${[line(head), ...rows.map(line)].join('\n')}`;
}
