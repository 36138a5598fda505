import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

describe('the README and docs/: every relative link leads somewhere', () => {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  for (const file of files)
    it(file, () => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:)/.test(target)) continue;
        const [path, hash] = target.split('#');
        const full = path === '' ? join(ROOT, file) : join(ROOT, dirname(file), path);
        expect(existsSync(full), `${file}: ${target}`).toBe(true);
        if (hash && full.endsWith('.md')) {
          const headings = [...readFileSync(full, 'utf8').matchAll(/^#+ (.*)$/gm)].map((m) =>
            anchor(m[1]),
          );
          expect(headings, `${file}: ${target}`).toContain(hash);
        }
      }
    });
});
