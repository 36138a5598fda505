import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bar, bucketLabel, histoSvg, histoText } from '../../../src/render/histo';
import { parseHisto } from '../../../src/app/histo';
import { renderFrame } from '../../../src/render/top';
import { Sample, spinlocksDir } from '../../../src/app/top';

const zeros = (): number[] => new Array(31).fill(0);

function sample(atMs: number, taken: number, spin: number[]): Sample {
  return {
    atMs,
    v: {
      taken,
      taken_slow: 10,
      released: taken,
      time_spinning: taken * 20,
      time_blocked: 0,
      time_total: taken * 20,
      timeout: 1024,
      zero_stats: 0,
    },
    h: { histo_total: spin, histo_spinning: spin, histo_blocked: zeros() },
  };
}

describe('histo', () => {
  it('labels buckets by their lower bound in human units', () => {
    expect([0, 4, 10, 20, 29, 30].map(bucketLabel)).toEqual([
      '1 ns',
      '16 ns',
      '1.02 µs',
      '1.05 ms',
      '537 ms',
      '≥1.07 s',
    ]);
  });

  it('parses only 31-number lines', () => {
    expect(parseHisto(`${zeros().join(' ')}\n`, 'f')).toHaveLength(31);
    expect(() => parseHisto('1 2 3\n', 'f')).toThrow(/not a 31-bucket histogram/);
  });

  it('draws bars with eighth-cell resolution and text from the first to the last non-empty bucket', () => {
    expect(bar(8, 8, 4)).toBe('████');
    expect(bar(1, 8, 4)).toBe('▌   ');
    const h = zeros();
    h[4] = 100;
    h[6] = 50;
    const text = histoText(h, 'x').split('\n');
    expect(text.slice(1, 4).map((l) => l.slice(0, 14))).toEqual([
      '  4     16 ns ',
      '  5     32 ns ',
      '  6     64 ns ',
    ]);
    expect(histoSvg(h, 'x')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
  });
});

describe('top frame', () => {
  it('fits 80×24 and shows rates over the interval', () => {
    const a = zeros();
    const b = zeros();
    a[4] = 1000;
    b[4] = 3000;
    b[20] = 2;
    const lines = renderFrame('/m/kvm/spinlocks', sample(0, 1000, a), sample(2000, 5000, b));
    expect(lines).toHaveLength(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[1]).toMatch(/taken 5000 \(2000\/s\)/);
    expect(lines[3]).toMatch(/timeout 1024/);
    expect(lines.join('\n')).toMatch(/16 ns/);
  });

  it("after a zero_stats reset takes the new values as the interval's", () => {
    const lines = renderFrame('/m', sample(0, 90_000, zeros()), sample(1000, 500, zeros()));
    expect(lines[1]).toMatch(/taken 500 \(500\/s\)/);
  });
});

describe('top finds its directory', () => {
  const tree = async (dirs: string[]): Promise<string> => {
    const root = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-top-'));
    for (const d of dirs) {
      await fsp.mkdir(join(root, d), { recursive: true });
      if (d.endsWith('spinlocks') && !d.startsWith('kvm-guest'))
        await fsp.writeFile(join(root, d, 'histo_total'), '0\n');
    }
    return root;
  };

  it.each([
    ['kvm/spinlocks', 'kvm/spinlocks'],
    ['xen/spinlocks', 'xen/spinlocks'],
  ])('under a root with %s it reads %s', async (d, expected) => {
    const root = await tree([d]);
    expect(await spinlocksDir(root)).toBe(join(root, expected));
    await fsp.rm(root, { recursive: true });
  });

  it.each(['kvm-guest/spinlocks', 'qlockstat'])(
    'a %s layout is refused with a pointer to cat and grep',
    async (d) => {
      const root = await tree([d]);
      await expect(spinlocksDir(root)).rejects.toThrow(
        /top shows the RFC's layout .* read this one with cat or grep -r/,
      );
      await fsp.rm(root, { recursive: true });
    },
  );

  it('an unrelated directory is refused', async () => {
    const root = await tree([]);
    await expect(spinlocksDir(root)).rejects.toThrow(/has no kvm\/spinlocks directory/);
    await fsp.rm(root, { recursive: true });
  });
});
