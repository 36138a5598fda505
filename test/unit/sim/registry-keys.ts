import { MECHANISM_DEFAULTS, MechanismConfig } from '../../../src/sim/mech-config';

/** Every key of MechanismConfig (its defaults have them all). */
export const MECHANISM_CONFIG_KEYS = Object.keys(MECHANISM_DEFAULTS) as (keyof MechanismConfig)[];
