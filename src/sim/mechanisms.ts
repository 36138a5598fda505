import type { SimConfig } from './config';
import type { Guest } from './guest';
import { IPIS_UNDER_LOCK } from './mech-ipi';
import type { MechanismConfig } from './mech-config';
import { SHADOW_PAGING } from './mech-mmu';
import { VFS_LOCKS_MECHANISM } from './mech-vfs';

/** A mechanism's switch: a boolean of `MechanismConfig`. */
export type MechanismKey = {
  [K in keyof MechanismConfig]: MechanismConfig[K] extends boolean ? K : never;
}[keyof MechanismConfig];

/** A parameter of a mechanism (its range is in config-check, its default in mech-config). */
export type MechanismParam = Exclude<keyof MechanismConfig, MechanismKey>;

/** A range a search draws a parameter from: its sources', and whether it is a whole number. */
export type SourceRange = readonly [number, number, 'int' | 'real'];

/**
 * Everything the rest of pvlockfs needs to know about one switchable mechanism of the 2010 host:
 * the flag that switches it (`--NAME`, `--no-NAME`, the named experiment's and the ablation's
 * name), its parameters, the counters it reports, and the ranges its sources give them.
 */
export interface MechanismSpec {
  name: string;
  /** One line for the flag's help. */
  help: string;
  /** Its parameters, in the order the refit search draws them. */
  params: readonly MechanismParam[];
  /** The counters it reports while on (`run --json`'s locks, `pvlockfs/mechanisms`), in order. */
  counters(g: Guest): Record<string, number>;
  /** Each parameter's range in the sources (docs/mechanisms.md), for the refit search. */
  sourceRanges: Readonly<Partial<Record<MechanismParam, SourceRange>>>;
}

/**
 * Every switchable mechanism, declared once. The compiler checks it is complete: a switch added
 * to `MechanismConfig` without a line here does not build (nor does one without its named
 * experiment's verdict). Adding a mechanism is one file plus one line here.
 */
export const MECHANISMS = {
  shadowPaging: SHADOW_PAGING,
  vfsLocks: VFS_LOCKS_MECHANISM,
  ipiUnderLock: IPIS_UNDER_LOCK,
} satisfies Record<MechanismKey, MechanismSpec>;

/** The mechanisms' switches, in the registry's order. */
export const MECHANISM_KEYS = Object.keys(MECHANISMS) as MechanismKey[];

/** Whether any mechanism is on. */
export function anyMechanism(cfg: SimConfig): boolean {
  return MECHANISM_KEYS.some((k) => cfg[k]);
}

/** The counters of the mechanisms that are on, each group in the registry's order. */
export function mechanismCounters(g: Guest): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of MECHANISM_KEYS) if (g.cfg[k]) Object.assign(out, MECHANISMS[k].counters(g));
  return out;
}
