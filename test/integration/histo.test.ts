import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHER, run } from './harness';

// The command on a live mount is in the README tour (tour.test.ts); here, what it refuses.
describe('pvlockfs histo: refusals name the file and the reason', () => {
  let dir: string;
  let histo: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-histo-'));
    histo = join(dir, 'histo_total');
    await fsp.writeFile(
      histo,
      `${Array.from({ length: 31 }, (_, i) => (i === 12 ? 5 : 0)).join(' ')}\n`,
    );
    await fsp.writeFile(join(dir, 'taken'), '100\n');
  });
  afterAll(async () => {
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['no file', 2, () => ['histo'], /'histo' needs a histogram file/],
    [
      'two files',
      2,
      () => ['histo', histo, histo],
      /'histo' takes at most 1 histogram file, got also/,
    ],
    ['--svg without a value', 2, () => ['histo', histo, '--svg'], /--svg: missing value/],
    ['a missing file', 1, () => ['histo', join(dir, 'nope')], /cannot read .*nope: ENOENT/],
    [
      'a counter, not a histogram',
      1,
      () => ['histo', join(dir, 'taken')],
      /taken is not a 31-bucket histogram/,
    ],
    [
      'an SVG path that cannot be written',
      1,
      () => ['histo', histo, '--svg', '/proc/nope/x.svg'],
      /--svg \/proc\/nope\/x\.svg: cannot write there \(ENOENT\)/,
    ],
  ])('%s: exit %i', async (_what, code, args, message) => {
    const r = await run(LAUNCHER, args());
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it('a histogram file prints one labelled bar per non-empty bucket', async () => {
    const r = await run(LAUNCHER, ['histo', histo]);
    expect(r.code, r.stderr).toBe(0);
    const utf8 = Buffer.from(r.stdout, 'latin1').toString('utf8');
    expect(utf8).toMatch(/^ 12 +4\.1 µs │█+ 5$/m);
  });
});
