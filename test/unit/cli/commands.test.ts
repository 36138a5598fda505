import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, COMMANDS } from '../../../src/cli/commands';
import { EXPERIMENT_OPTIONS } from '../../../src/cli/experiment-options';
import { HISTO_OPTIONS } from '../../../src/cli/histo';
import { OPTION_SPECS } from '../../../src/cli/options';
import { defaultConfig } from '../../../src/sim/config';

const MAIN = join(__dirname, '../../../dist/cli/main.js');

/** What the built CLI prints for `args` (exit status and stdout). */
function cli(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout };
}

/**
 * Every flag each command's parser takes, from the tables the parsers read (not from the help
 * lists): an option added to a parser and left out of the help fails here.
 */
const PARSED: Record<string, readonly string[]> = {
  mount: OPTION_SPECS.filter((s) => s.commands.includes('mount')).map((s) => s.flag),
  run: OPTION_SPECS.filter((s) => s.commands.includes('run')).map((s) => s.flag),
  experiment: EXPERIMENT_OPTIONS.map((s) => s.flag),
  histo: HISTO_OPTIONS.map((s) => s.flag),
  top: [],
  help: [],
  version: [],
};

describe('the command table: dispatch and help from one declaration', () => {
  it('names every command the parsers know, and nothing else', () => {
    expect([...COMMAND_NAMES].sort()).toEqual(Object.keys(PARSED).sort());
    expect(Object.keys(COMMANDS).sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it('pvlockfs help lists every command and every option of every command', () => {
    execFileSync('test', ['-f', MAIN]);
    const h = cli('help');
    expect(h.status).toBe(0);
    for (const name of COMMAND_NAMES) {
      expect(h.out).toContain(COMMANDS[name].usage);
      const section =
        name === 'top' || name === 'help' || name === 'version'
          ? h.out
          : h.out.split(`Options for ${name}:\n`)[1];
      expect(section, `a section of options for ${name}`).toBeDefined();
      for (const flag of PARSED[name])
        expect(section, `${name} ${flag}`).toMatch(new RegExp(`^  ${flag}( |$)`, 'm'));
    }
  });

  it.each(COMMAND_NAMES.filter((n) => n !== 'help'))(
    'pvlockfs %s --help shows that command alone, with every option it takes',
    (name) => {
      const h = cli(name, '--help');
      expect(h.status).toBe(0);
      expect(h.out).toMatch(
        new RegExp(`^Usage: ${COMMANDS[name].usage.replace(/[[\]]/g, '\\$&')}\n`),
      );
      for (const flag of PARSED[name])
        expect(h.out, flag).toMatch(new RegExp(`^  ${flag}( |$)`, 'm'));
      // Only its own: a run-only option is not offered to mount, and the reverse.
      const others = Object.values(PARSED)
        .flat()
        .filter((f) => !PARSED[name].includes(f));
      for (const flag of others)
        expect(h.out, `${flag} is not ${name}'s`).not.toMatch(new RegExp(`^  ${flag}( |$)`, 'm'));
    },
  );

  it("help and version take nothing else; help COMMAND is that command's help", () => {
    expect(cli('version', '--bogus').status).toBe(2);
    expect(cli('help', '--bogus').status).toBe(2);
    expect(cli('help', 'nope').status).toBe(2);
    expect(cli('help', 'histo').out).toBe(cli('histo', '--help').out);
  });
});

describe('help params: every model parameter in one place', () => {
  it('lists every key --param takes with its default, and each is explained in docs/', () => {
    const h = cli('help', 'params');
    expect(h.status).toBe(0);
    const rows = new Map(
      h.out
        .split('\n')
        .map((l) => l.split(/\s{2,}/))
        .filter((r) => r.length >= 2)
        .map((r) => [r[0], r[1]]),
    );
    const docs = ['model.md', 'mechanisms.md']
      .map((f) => readFileSync(join(__dirname, '../../../docs', f), 'utf8'))
      .join('\n');
    for (const [key, value] of Object.entries(defaultConfig())) {
      expect(rows.get(key), key).toBe(String(value));
      expect(docs, `${key} is not explained in docs/model.md or docs/mechanisms.md`).toMatch(
        new RegExp(`\\b${key}\\b`),
      );
    }
  });

  it("help --help is help's own help; unknown arguments to help and version are refused", () => {
    expect(cli('help', '--help').out).toMatch(/^Usage: pvlockfs help \[COMMAND\|params\]/);
    expect(cli('help', '--bogus').status).toBe(2);
    expect(cli('version', '--bogus').status).toBe(2);
    expect(cli('help', 'bogus').status).toBe(2);
  });
});
