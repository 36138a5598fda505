import { describe, expect, it } from 'vitest';
import { fsErrorCode } from './helpers';
import { formatArray, openFile, readFile, writeFile } from '../../../src/debugfs/file';
import {
  AttrNode,
  createAttr,
  createDir,
  createU32Array,
  DirNode,
} from '../../../src/debugfs/nodes';
import type { Abi } from '../../../src/debugfs/parse';

const errno = fsErrorCode;

function fixture(): {
  root: DirNode;
  value: { v: bigint };
  u8: AttrNode;
  u32: AttrNode;
  ro: AttrNode;
  arr: number[];
} {
  const root = createDir('', null, 0);
  const value = { v: 1024n };
  const u8 = createAttr(
    'zero_stats',
    0o644,
    root,
    8,
    () => value.v & 0xffn,
    (x) => void (value.v = x),
    0,
  );
  const u32 = createAttr(
    'timeout',
    0o644,
    root,
    32,
    () => value.v,
    (x) => void (value.v = x),
    0,
  );
  const ro = createAttr(
    'taken',
    0o444,
    root,
    64,
    () => value.v,
    (x) => void (value.v = x),
    0,
  );
  const arr = Array.from({ length: 31 }, () => 0);
  createU32Array('histo', 0o444, root, () => arr, 0);
  return { root, value, u8, u32, ro, arr };
}

describe('attribute reads (simple_attr_read)', () => {
  it('formats "%llu\\n" and snapshots at the first read at offset 0', () => {
    const { u32, value } = fixture();
    const f = openFile(u32, 'modern');
    expect(readFile(f, 0, 2).toString()).toBe('10');
    value.v = 99999n;
    expect(readFile(f, 2, 100).toString()).toBe('24\n');
    expect(readFile(f, 5, 100).length).toBe(0);
    expect(readFile(f, 5, 100).length).toBe(0);
  });

  it('a read at any other offset than the position is ESPIPE', () => {
    const { u32 } = fixture();
    expect(errno(() => readFile(openFile(u32, 'modern'), 5, 10))).toBe('ESPIPE');
  });
});

describe('attribute writes (simple_attr_write)', () => {
  it('truncates to the width: 256 into a u8 stores 0', () => {
    const { u8, value } = fixture();
    expect(writeFile(openFile(u8, 'modern'), Buffer.from('256\n'))).toBe(4);
    expect(value.v).toBe(0n);
  });

  it('2.6.35: -1 stores all ones truncated to the width', () => {
    const { u32, u8, value } = fixture();
    writeFile(openFile(u32, '2.6.35'), Buffer.from('-1'));
    expect(value.v).toBe(4294967295n);
    writeFile(openFile(u8, '2.6.35'), Buffer.from('-1'));
    expect(value.v).toBe(255n);
  });

  it('returns the full length even when longer than 23 bytes', () => {
    const { u32 } = fixture();
    const data = Buffer.from(`7${' '.repeat(40)}`);
    expect(writeFile(openFile(u32, '2.6.35'), data)).toBe(41);
  });

  it.each<[Abi, string, string]>([
    ['modern', 'abc', 'EINVAL'],
    ['modern', '18446744073709551616', 'ERANGE'],
    ['modern', '-1', 'EINVAL'],
  ])('%s: %j → %s and nothing stored', (abi, input, code) => {
    const { u32, value } = fixture();
    expect(errno(() => writeFile(openFile(u32, abi), Buffer.from(input)))).toBe(code);
    expect(value.v).toBe(1024n);
  });

  it('root writing a read-only attribute gets EACCES; an array gets EINVAL', () => {
    const { ro, root } = fixture();
    expect(errno(() => writeFile(openFile(ro, 'modern'), Buffer.from('1')))).toBe('EACCES');
    expect(
      errno(() => writeFile(openFile(root.children.get('histo')!, 'modern'), Buffer.from('1'))),
    ).toBe('EINVAL');
  });
});

describe('write positions (a non-seekable file)', () => {
  it('a write anywhere but the position is ESPIPE and stores nothing (pwrite @1, @5)', () => {
    const { u32, value } = fixture();
    const f = openFile(u32, 'modern');
    expect(errno(() => writeFile(f, Buffer.from('5\n'), 1))).toBe('ESPIPE');
    expect(errno(() => writeFile(f, Buffer.from('6\n'), 5))).toBe('ESPIPE');
    expect(value.v).toBe(1024n);
  });

  it('after a write, one at 0 is ESPIPE; one at the new position is taken', () => {
    const { u32, value } = fixture();
    const f = openFile(u32, 'modern');
    expect(writeFile(f, Buffer.from('8\n'), 0)).toBe(2);
    expect(errno(() => writeFile(f, Buffer.from('3\n'), 0))).toBe('ESPIPE');
    expect(value.v).toBe(8n);
    expect(writeFile(f, Buffer.from('9\n'), 2)).toBe(2);
    expect(value.v).toBe(9n);
  });

  it('O_APPEND writes arrive at the size (0) and are all taken', () => {
    const { u32, value } = fixture();
    const f = openFile(u32, 'modern');
    f.append = true;
    expect(writeFile(f, Buffer.from('7\n'), 0)).toBe(2);
    expect(writeFile(f, Buffer.from('9\n'), 0)).toBe(2);
    expect(value.v).toBe(9n);
  });
});

describe('u32 arrays', () => {
  it('formats all-zero 31 buckets as 62 bytes', () => {
    expect(formatArray(new Uint32Array(31)).length).toBe(62);
    expect(formatArray([1, 4294967295, 3]).toString()).toBe('1 4294967295 3\n');
  });

  it('modern captures the text at open; 2.6.35 at each read at offset 0', () => {
    const { root, arr } = fixture();
    const node = root.children.get('histo')!;
    const modern = openFile(node, 'modern');
    const old = openFile(node, '2.6.35');
    arr[0] = 7;
    expect(readFile(modern, 0, 1000).toString().startsWith('0 ')).toBe(true);
    expect(readFile(old, 0, 1000).toString().startsWith('7 ')).toBe(true);
  });

  it('refuses write or execute bits at creation without attaching anything (the RFC leaked here)', () => {
    const root = createDir('', null, 0);
    for (const mode of [0o644, 0o200, 0o555, 0o001]) {
      expect(errno(() => createU32Array('bad', mode, root, () => [], 0))).toBe('EINVAL');
    }
    expect(root.children.size).toBe(0);
    createU32Array('good', 0o444, root, () => [], 0);
    expect([...root.children.keys()]).toEqual(['good']);
  });
});

describe('one write(2) split by the kernel into several FUSE WRITEs (hardening)', () => {
  // With direct_io the kernel sends at most 128 KiB of the caller's buffer per WRITE, less the
  // buffer's offset in its first page: pieces of 126,977 to 131,072 bytes, then the rest.
  const piece = (text: string, length: number): Buffer =>
    Buffer.concat([Buffer.from(text, 'latin1'), Buffer.alloc(length - text.length, 0x30)]);

  it('the first piece decides; the next pieces are accepted whole and ignored (no second parse)', () => {
    const { u32, value } = fixture();
    const f = openFile(u32, 'modern');
    expect(writeFile(f, piece('7\0', 131_024), 0)).toBe(131_024);
    expect(value.v).toBe(7n);
    value.v = 1234n;
    // On its own, '000…' would store 0: as a continuation it must change nothing.
    expect(writeFile(f, piece('', 131_072), 131_024)).toBe(131_072);
    expect(writeFile(f, piece('', 68_978), 131_024 + 131_072)).toBe(68_978);
    expect(value.v).toBe(1234n);
    // The write(2) after it (the last piece was short) is parsed again.
    expect(writeFile(f, Buffer.from('9\n'), 131_024 + 131_072 + 68_978)).toBe(2);
    expect(value.v).toBe(9n);
  });

  it('a failed first piece stores nothing, and a later write on the descriptor is parsed again', () => {
    const { u32, value } = fixture();
    const f = openFile(u32, 'modern');
    expect(errno(() => writeFile(f, piece('9999999999999999999999999', 131_072), 0))).toBe(
      'ERANGE',
    );
    expect(value.v).toBe(1024n);
    expect(writeFile(f, Buffer.from('5\n'), 0)).toBe(2);
    expect(value.v).toBe(5n);
  });

  it('short writes in a row are each their own write (only a full piece continues)', () => {
    const { u32, value } = fixture();
    const f = openFile(u32, 'modern');
    expect(writeFile(f, Buffer.from('5\n'), 0)).toBe(2);
    expect(writeFile(f, Buffer.from('6\n'), 2)).toBe(2);
    expect(value.v).toBe(6n);
    // A piece of 124 KiB or less is a whole write(2) too.
    expect(writeFile(f, piece('8\0', 126_976), 4)).toBe(126_976);
    expect(writeFile(f, Buffer.from('3\n'), 4 + 126_976)).toBe(2);
    expect(value.v).toBe(3n);
  });
});
