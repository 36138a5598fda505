import { defaultConfig, SimConfig } from '../sim/config';
import { INT_RANGES } from '../sim/config-check';
import { UsageError } from '../app/errors';
import { shown } from '../os/shown';

export { shown };

/** One option of a command: its flag, the value it takes (none for a switch), help, and its effect. */
/** What help shows of an option. */
export interface OptionHelp {
  flag: string;
  arg?: string;
  help: string;
}

/** An option: its help, and what it sets in the options `O` (from its value). */
export interface OptionSpec<O> extends OptionHelp {
  set(o: O, value: string, flag: string): void;
}

/** How many positional arguments a command takes, and what they are called in messages. */
export interface Positionals {
  name: string;
  min: number;
  max: number;
}

/** The longest piece of a user's value a message repeats; the rest is summarised. */
/**
 * The one argv parser of every command: `--flag value` and `--flag=value`, switches without a
 * value, `--` ends the options (so a path may start with `-`). Anything else that starts with
 * `-` is an unknown option; more positional arguments than the command takes is an error.
 * Returns the positional arguments; each option's `set` has been applied to `o` in order.
 */
export function parseArgv<O>(
  command: string,
  specs: readonly OptionSpec<O>[],
  positionals: Positionals,
  argv: readonly string[],
  o: O,
): string[] {
  const out: string[] = [];
  let optionsEnded = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!optionsEnded && a === '--') {
      optionsEnded = true;
      continue;
    }
    if (optionsEnded || !a.startsWith('-') || a === '-') {
      out.push(a);
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const spec = specs.find((s) => s.flag === flag);
    if (!spec)
      throw new UsageError(`${shown(flag)}: unknown option for '${command}' (see 'pvlockfs help')`);
    let value = '';
    if (spec.arg) {
      if (eq > 0) value = a.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`${flag}: missing value (expected ${spec.arg})`);
    } else if (eq > 0) throw new UsageError(`${flag}: takes no value`);
    spec.set(o, value, flag);
  }
  if (out.length > positionals.max) {
    const extra = out[positionals.max];
    throw new UsageError(
      positionals.max === 0
        ? `'${command}' takes no ${positionals.name}, got '${shown(extra)}'`
        : `'${command}' takes at most ${positionals.max} ${positionals.name}, got also '${shown(extra)}'`,
    );
  }
  if (out.length < positionals.min)
    throw new UsageError(
      `'${command}' needs ${positionals.min === 1 ? 'a' : positionals.min} ${positionals.name}`,
    );
  return out;
}

/** A whole number from `lo` to `hi`, or a usage error naming the flag. */
export function intArg(flag: string, text: string, lo: number, hi: number): number {
  if (!/^\d+$/.test(text) || Number(text) < lo || Number(text) > hi) {
    throw new UsageError(
      `${flag}: '${shown(text)}' is not valid (expected a whole number from ${lo} to ${hi})`,
    );
  }
  return Number(text);
}

/**
 * A whole number in the range the model declares for `key` (config-check's `INT_RANGES`, the one
 * place the ranges are kept), or a usage error naming the flag.
 */
export function configIntArg(flag: string, text: string, key: keyof SimConfig): number {
  const range = INT_RANGES[key];
  if (range === undefined) throw new Error(`no range for ${key}`);
  return intArg(flag, text, range[0], range[1]);
}

/**
 * A decimal number (`2`, `0.5`, `1.25`) from `lo` to `hi`, or a usage error naming the flag; the
 * other spellings JavaScript would take (`0x2`, `1e1`, `.5`, ` 2`) are refused, as whole-number
 * options refuse them.
 */
export function realArg(flag: string, text: string, lo: number, hi: number): number {
  const v = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(v) || v < lo || v > hi) {
    throw new UsageError(
      `${flag}: '${shown(text)}' is not valid (expected a number from ${lo} to ${hi})`,
    );
  }
  return v;
}

/** One of `choices`, or a usage error listing them. */
export function oneOfArg<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text))
    throw new UsageError(
      `${flag}: '${shown(text)}' is not valid (expected ${choices.join(' | ')})`,
    );
  return text as T;
}

/** A comma-separated list, each item parsed; a value listed twice counts once. */
export function listArg<T extends string | number>(
  flag: string,
  text: string,
  parse: (s: string) => T,
  allowed?: readonly T[],
): T[] {
  const items = text.split(',').map((s) => s.trim());
  const out = items.map(parse);
  if (items.some((s) => s === '') || (allowed && out.some((x) => !allowed.includes(x)))) {
    throw new UsageError(
      `${flag}: '${shown(text)}' is not valid (expected a comma-separated list${allowed ? ` of ${allowed.join(', ')}` : ''})`,
    );
  }
  // A value listed twice would run its cells twice and count them as more repetitions: once is meant.
  return out.filter((x, i) => out.indexOf(x) === i);
}

/** A non-empty value (a path, a name). */
export function nonEmptyArg(flag: string, text: string, what: string): string {
  if (text === '') throw new UsageError(`${flag}: empty (expected ${what})`);
  return text;
}

/**
 * Keys a command sets itself, with the option that sets them: `--param` refuses these instead
 * of letting the command silently override the value.
 */
export type ReservedParams = Partial<Record<keyof SimConfig, string>>;

/**
 * The one `--param KEY=VALUE` parser: KEY must be a model parameter (an own key of the defaults,
 * so `toString` or `__proto__` are not), the value is typed by the default's type (numbers as
 * numbers, booleans exactly `true`/`false`, names as given; the ranges are the config's
 * validation's, applied once the whole command line is read).
 */
export function parseParam(
  flag: string,
  text: string,
  reserved: ReservedParams,
): [keyof SimConfig, SimConfig[keyof SimConfig]] {
  const def = defaultConfig();
  const eq = text.indexOf('=');
  const key = text.slice(0, Math.max(eq, 0));
  if (eq <= 0 || !Object.prototype.hasOwnProperty.call(def, key)) {
    throw new UsageError(
      `${flag}: '${shown(text)}' is not valid (expected KEY=VALUE with KEY a model parameter: see docs/model.md)`,
    );
  }
  const k = key as keyof SimConfig;
  const instead = reserved[k];
  if (instead !== undefined)
    throw new UsageError(`${flag} ${k}: set by this command; use ${instead}`);
  const raw = text.slice(eq + 1);
  const cur = def[k];
  if (typeof cur === 'boolean')
    return [k, oneOfArg(`${flag} ${k}`, raw, ['true', 'false']) === 'true'];
  if (typeof cur === 'number') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v))
      throw new UsageError(`${flag} ${k}: '${shown(raw)}' is not valid (expected a number)`);
    return [k, v];
  }
  return [k, raw as SimConfig[keyof SimConfig]];
}

/** Help lines for an option table. */
export function optionLines(specs: readonly OptionHelp[], width = 30): string {
  return specs
    .map((s) => `  ${`${s.flag}${s.arg ? ` ${s.arg}` : ''}`.padEnd(width)} ${s.help}`)
    .join('\n');
}
