import type { MechanismConfig } from '../sim/mech-config';
import { MECHANISM_KEYS, MechanismKey, MECHANISMS } from '../sim/mechanisms';
import type { OptionRow } from './options';

const BOTH = ['run', 'mount'] as const;

/** The switchable mechanisms of the 2010 host: flag name, config key, what it adds (the registry's). */
export const MECHANISM_SWITCHES: readonly { name: string; key: MechanismKey; help: string }[] =
  MECHANISM_KEYS.map((key) => ({ name: MECHANISMS[key].name, key, help: MECHANISMS[key].help }));

/** `--NAME` and `--no-NAME` for each mechanism (parameters: `--param`, docs/mechanisms.md). */
export const MECHANISM_OPTION_SPECS: readonly OptionRow[] = MECHANISM_SWITCHES.flatMap((m) => [
  {
    flag: `--${m.name}`,
    help: `mechanism: ${m.help}`,
    commands: BOTH,
    set: (o) => ((o.sim as MechanismConfig)[m.key] = true),
  },
  {
    flag: `--no-${m.name}`,
    help: `ablation: without ${m.name}`,
    commands: BOTH,
    set: (o) => ((o.sim as MechanismConfig)[m.key] = false),
  },
]);
