import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(__dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => m[1]);
}

const layer = (file: string): string => relative(SRC, file).split('/')[0];
// Imports flow one way: tools → cli → app → os, fuse, layout, experiment, trace, render → faults
// → debugfs, sim. render reads experiment, trace and layout (their types, the RFC's numbers, the files'
// names); os (the operating system's edge) imports nothing of the project. See
// docs/architecture.md.
const ALLOWED: Record<string, string[]> = {
  sim: ['sim'],
  debugfs: ['debugfs'],
  faults: ['faults', 'debugfs', 'sim'],
  layout: ['layout', 'faults', 'debugfs', 'sim'],
  fuse: ['fuse', 'faults', 'debugfs'],
  experiment: ['experiment', 'sim'],
  trace: ['trace', 'sim'],
  render: ['render', 'experiment', 'trace', 'layout'],
  os: ['os'],
  app: ['app', 'os', 'fuse', 'layout', 'faults', 'debugfs', 'sim', 'experiment', 'trace', 'render'],
  cli: ['cli', 'app', 'os', 'layout', 'faults', 'debugfs', 'sim', 'experiment', 'render'],
  tools: ['tools', 'cli', 'app', 'os', 'fuse', 'layout', 'debugfs', 'sim', 'experiment'],
};

describe('module boundaries (STYLE.md)', () => {
  it.each(files(SRC).map((f) => [relative(SRC, f), f]))(
    '%s imports only what its layer may',
    (_name, file) => {
      const from = layer(file);
      for (const spec of imports(file)) {
        if (!spec.startsWith('.')) continue;
        const to = relative(SRC, join(file, '..', spec)).split('/')[0];
        expect(ALLOWED[from], `${from} → ${to} (${spec})`).toContain(to);
      }
    },
  );

  it('src/cli builds no machine, filesystem, mount, driver or worker: it calls src/app', () => {
    for (const f of files(join(SRC, 'cli')))
      expect(readFileSync(f, 'utf8'), f).not.toMatch(
        /new Machine\b|\.runUntil\(|new DebugFs\b|mountFs\(|mountOps\(|new LiveDriver\b|new Worker\b/,
      );
  });

  it('only src/fuse imports fuse-native', () => {
    for (const f of files(SRC))
      if (imports(f).includes('fuse-native')) expect(layer(f)).toBe('fuse');
  });

  it('src/sim, src/experiment, src/trace and src/render have no wall clock, no Math.random, no timers and no node: imports', () => {
    for (const f of [
      ...files(join(SRC, 'sim')),
      ...files(join(SRC, 'experiment')),
      ...files(join(SRC, 'trace')),
      ...files(join(SRC, 'render')),
    ]) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(
        /\bDate\b|performance\.now|Math\.random|setTimeout|setInterval|setImmediate/,
      );
      for (const spec of imports(f))
        expect(
          spec.startsWith('node:') ||
            ['fs', 'os', 'path', 'assert', 'child_process'].includes(spec),
          `${f}: ${spec}`,
        ).toBe(false);
    }
  });
});
