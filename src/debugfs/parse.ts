import type { ErrnoName } from './errors';

/** How a kernel era parses what is written to an integer attribute. */
export type Abi = 'modern' | '2.6.35';
/** The ABI profiles, default first. */
export const ABIS: readonly Abi[] = ['modern', '2.6.35'];

/** Bytes of a write that `simple_attr_write` examines: sizeof(set_buf) - 1. */
export const ATTR_WRITE_MAX = 23;
const U64_MASK = (1n << 64n) - 1n;

/** Result of parsing one write: a value, or the errno the kernel returns. */
export type ParseResult = { ok: true; value: bigint } | { ok: false; code: ErrnoName };

/**
 * The string the kernel parses: the first 23 bytes, cut at the first NUL (the kernel copies
 * into a NUL-terminated buffer and its parsers stop at the terminator).
 */
export function attrWriteText(data: Uint8Array): Uint8Array {
  const head = data.subarray(0, ATTR_WRITE_MAX);
  const nul = head.indexOf(0);
  return nul < 0 ? head : head.subarray(0, nul);
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return 99;
}

function isXdigit(c: number | undefined): boolean {
  return c !== undefined && digitValue(c) < 16;
}

/** Base auto-detection of both eras (`simple_guess_base` / `_parse_integer_fixup_radix`). */
function guessBase(s: Uint8Array, i: number): { base: number; start: number } {
  if (s[i] === 0x30) {
    if ((s[i + 1] | 0x20) === 0x78 && isXdigit(s[i + 2])) return { base: 16, start: i + 2 };
    return { base: 8, start: i };
  }
  return { base: 10, start: i };
}

/**
 * Mirrors `kstrtoull(s, 0, &v)` (lib/kstrtox.c, kernels ≥ 5.10): one optional '+', base
 * auto-detection, at least one digit, the whole string consumed but for one trailing '\n';
 * EINVAL for anything else, ERANGE above 2^64 - 1.
 */
export function kstrtoull(s: Uint8Array): ParseResult {
  let i = s[0] === 0x2b ? 1 : 0;
  const { base, start } = guessBase(s, i);
  i = start;
  const b = BigInt(base);
  let value = 0n;
  let digits = 0;
  let overflow = false;
  while (i < s.length) {
    const d = digitValue(s[i]);
    if (d >= base) break;
    value = value * b + BigInt(d);
    if (value > U64_MASK) overflow = true;
    digits += 1;
    i += 1;
  }
  if (overflow) return { ok: false, code: 'ERANGE' };
  if (digits === 0) return { ok: false, code: 'EINVAL' };
  if (s[i] === 0x0a) i += 1;
  if (i !== s.length) return { ok: false, code: 'EINVAL' };
  return { ok: true, value };
}

/**
 * Mirrors 2.6.35 `simple_strtol(s, NULL, 0)` on x86_64: never fails; optional '-', base
 * auto-detection, digits consumed while valid, silent wrap modulo 2^64, 0 when no digit.
 */
export function simpleStrtol(s: Uint8Array): bigint {
  const negative = s[0] === 0x2d;
  const { base, start } = guessBase(s, negative ? 1 : 0);
  const b = BigInt(base);
  let value = 0n;
  for (let i = start; i < s.length; i++) {
    const d = digitValue(s[i]);
    if (d >= base) break;
    value = (value * b + BigInt(d)) & U64_MASK;
  }
  return negative ? -value & U64_MASK : value;
}

/** Parses one write to an integer attribute the way the profile's kernel does. */
export function parseAttrWrite(abi: Abi, data: Uint8Array): ParseResult {
  const text = attrWriteText(data);
  return abi === 'modern' ? kstrtoull(text) : { ok: true, value: simpleStrtol(text) };
}
