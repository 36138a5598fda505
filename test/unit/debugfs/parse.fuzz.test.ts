import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { parseAttrWrite } from '../../../src/debugfs/parse';

// An independent reference for the two kernel parsers, written from their documented rules with
// regular expressions and BigInt literals rather than a digit loop.
const U64 = (1n << 64n) - 1n;

function examined(bytes: Buffer): string {
  const head = bytes.subarray(0, 23);
  const nul = head.indexOf(0);
  return (nul < 0 ? head : head.subarray(0, nul)).toString('latin1');
}

function split(s: string): { base: 8 | 10 | 16; digits: string; rest: string } {
  const hex = /^0[xX]([0-9a-fA-F]+)(.*)$/s.exec(s);
  if (hex) return { base: 16, digits: hex[1], rest: hex[2] };
  if (s.startsWith('0')) {
    const m = /^([0-7]*)(.*)$/s.exec(s) as RegExpExecArray;
    return { base: 8, digits: m[1], rest: m[2] };
  }
  const m = /^([0-9]*)(.*)$/s.exec(s) as RegExpExecArray;
  return { base: 10, digits: m[1], rest: m[2] };
}

function literal(base: number, digits: string): bigint {
  return BigInt(`${base === 16 ? '0x' : base === 8 ? '0o' : ''}${digits}`);
}

function refModern(bytes: Buffer): bigint | 'EINVAL' | 'ERANGE' {
  const s = examined(bytes);
  const { base, digits, rest } = split(s.startsWith('+') ? s.slice(1) : s);
  if (digits === '') return 'EINVAL';
  const v = literal(base, digits);
  if (v > U64) return 'ERANGE';
  return rest === '' || rest === '\n' ? v : 'EINVAL';
}

function refOld(bytes: Buffer): bigint {
  const s = examined(bytes);
  const neg = s.startsWith('-');
  const { base, digits } = split(neg ? s.slice(1) : s);
  const v = digits === '' ? 0n : literal(base, digits) & U64;
  return neg ? -v & U64 : v;
}

const ALPHABET = ['0', '1', '7', '8', '9', 'a', 'f', 'g', 'x', 'X', '+', '-', ' ', '\n', '\0', 'F'];

function sample(rng: () => number): Buffer {
  // One input in six is a long digit run (19–22 digits, around 2^64), the overflow boundary.
  if (rng() < 1 / 6) {
    const prefix = ['', '+', '-', '0x', '0'][Math.floor(rng() * 5)];
    let digits = String(1 + Math.floor(rng() * 9));
    const n = 18 + Math.floor(rng() * 4);
    for (let i = 0; i < n; i++) digits += String(Math.floor(rng() * 10));
    return Buffer.from(`${prefix}${digits}${rng() < 0.5 ? '\n' : ''}`, 'latin1');
  }
  const len = Math.floor(rng() * 30);
  let s = '';
  for (let i = 0; i < len; i++)
    s +=
      rng() < 0.6 ? String(Math.floor(rng() * 10)) : ALPHABET[Math.floor(rng() * ALPHABET.length)];
  return Buffer.from(s, 'latin1');
}

const SEED = 'pvlockfs-parse-fuzz-1';

describe(`write parser property test (seed ${SEED})`, () => {
  it('agrees with the reference on 20,000 generated inputs, both profiles', () => {
    const rng = seedrandom(SEED);
    const outcomes: Record<string, number> = { accepted: 0, EINVAL: 0, ERANGE: 0 };
    for (let i = 0; i < 20_000; i++) {
      const input = sample(rng);
      const modern = parseAttrWrite('modern', input);
      const want = refModern(input);
      const got = modern.ok ? modern.value : modern.code;
      outcomes[modern.ok ? 'accepted' : modern.code] += 1;
      if (got !== want)
        throw new Error(
          `seed ${SEED}, case ${i}: modern ${JSON.stringify(input.toString('latin1'))} → ${got}, reference ${want}`,
        );
      const old = parseAttrWrite('2.6.35', input);
      if (!old.ok || old.value !== refOld(input)) {
        throw new Error(
          `seed ${SEED}, case ${i}: 2.6.35 ${JSON.stringify(input.toString('latin1'))} → ${JSON.stringify(old)}, reference ${refOld(input)}`,
        );
      }
    }
    // The generator reaches every outcome class, so the agreement above means something.
    expect(outcomes.accepted).toBeGreaterThan(1000);
    expect(outcomes.EINVAL).toBeGreaterThan(1000);
    expect(outcomes.ERANGE).toBeGreaterThan(10);
  });
});
