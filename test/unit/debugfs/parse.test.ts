import { describe, expect, it } from 'vitest';
import { WRITE_TABLE } from '../../tables/write-table';
import { attrWriteText, kstrtoull, parseAttrWrite, simpleStrtol } from '../../../src/debugfs/parse';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');

describe('integer attribute write parsing (docs/debugfs.md §2)', () => {
  it.each(WRITE_TABLE)('%j → modern %s, 2.6.35 %s', (input, modern, old) => {
    const m = parseAttrWrite('modern', b(input));
    if (typeof modern === 'bigint') expect(m).toEqual({ ok: true, value: modern });
    else expect(m).toEqual({ ok: false, code: modern });
    expect(parseAttrWrite('2.6.35', b(input))).toEqual({ ok: true, value: old });
  });

  it('examines only the first 23 bytes', () => {
    const long = `${'1'.repeat(23)}garbage`;
    expect(attrWriteText(b(long)).length).toBe(23);
    // 23 octal digits are examined; what follows is never seen.
    expect(parseAttrWrite('modern', b(`${'0'.repeat(22)}1xyz`))).toEqual({ ok: true, value: 1n });
    expect(parseAttrWrite('2.6.35', b(`${'0'.repeat(21)}17999`))).toEqual({ ok: true, value: 15n });
  });

  it('stops at an embedded NUL like the kernel C string', () => {
    expect(parseAttrWrite('modern', b('5\u0000junk'))).toEqual({ ok: true, value: 5n });
  });

  it('kstrtoull reports overflow before trailing garbage', () => {
    expect(kstrtoull(b('99999999999999999999x'))).toEqual({ ok: false, code: 'ERANGE' });
  });

  it('simple_strtol negates after parsing and wraps modulo 2^64', () => {
    expect(simpleStrtol(b('-0x10'))).toBe((1n << 64n) - 16n);
    expect(simpleStrtol(b('36893488147419103232'))).toBe(0n);
  });
});
