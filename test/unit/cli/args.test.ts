import { describe, expect, it } from 'vitest';
import { parseArgv, parseParam, shown } from '../../../src/cli/args';
import { UsageError } from '../../../src/app/errors';
import { parseExperiment } from '../../../src/cli/experiment';
import { OPTION_SPECS, parseOptions } from '../../../src/cli/options';
import { guestSeed, planGuests } from '../../../src/app/plan';
import { defaultConfig } from '../../../src/sim/config';

/** A value for each option argument kind that the option accepts. */
const GOOD: Record<string, string> = {
  N: '3',
  K: '2',
  'A|B|C': 'C',
  F: '0.5',
  NAME: 'ticket',
  'off|sleep|yield-to': 'sleep',
  'KEY=VALUE': 'holdNsMean=1500',
  DURATION: '5ms',
  'modern|2.6.35': '2.6.35',
  X: '2',
  'OP=I,P,S,T': 'read=1,100,0,-1',
};

describe('one argv parser for every command', () => {
  // Every option of run and mount, spelled both ways, parses to the same options.
  const rows = OPTION_SPECS.flatMap((s) =>
    s.commands.map((c) => [c, s.flag, s.arg ?? null] as const),
  );
  it.each(rows)('%s %s: --flag value and --flag=value are the same', (command, flag, arg) => {
    const value =
      arg === null
        ? null
        : flag === '--layout'
          ? 'kvm-2010'
          : flag === '--lock'
            ? 'pv-yield'
            : flag === '--pcpus'
              ? '4'
              : (GOOD[arg] ?? '1');
    // A trace window's options need a trace to apply to.
    const base = command === 'run' && flag.startsWith('--trace-') ? ['--trace', 'x.json'] : [];
    const spaced = value === null ? [...base, flag] : [...base, flag, value];
    const joined = value === null ? [...base, flag] : [...base, `${flag}=${value}`];
    expect(parseOptions(command, joined)).toEqual(parseOptions(command, spaced));
  });

  it.each([
    ['--reps', '2'],
    ['--seed', '7'],
    ['--scenarios', 'A,C'],
    ['--overcommit', '1,3'],
    ['--locks', 'ticket'],
    ['--work', '1s'],
    ['--cap', '2s'],
    ['--jobs', '1'],
    ['--param', 'holdNsMean=1500'],
    ['--out', '/tmp/x'],
  ])('experiment %s: --flag value and --flag=value are the same', (flag, value) => {
    expect(parseExperiment([`${flag}=${value}`])).toEqual(parseExperiment([flag, value]));
  });

  it.each([
    ['run', ['-x'], /-x: unknown option for 'run'/],
    ['run', ['foo'], /'run' takes no arguments, got 'foo'/],
    ['mount', ['/a', '/b'], /'mount' takes at most 1 mount point, got also '\/b'/],
    ['experiment', ['extra'], /'experiment' takes no arguments, got 'extra'/],
    ['experiment', ['--out', ''], /--out: empty \(expected a directory\)/],
    ['experiment', ['--out='], /--out: empty/],
  ] as const)('%s %j is a usage error: %s', (command, argv, message) => {
    const parse =
      command === 'experiment' ? () => parseExperiment(argv) : () => parseOptions(command, argv);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
  });

  it('-- ends the options: a mount point may start with -', () => {
    expect(parseOptions('mount', ['--', '-odd']).positional).toEqual(['-odd']);
  });

  it('top and histo go through the same parser: unknown options and stray arguments are usage errors', () => {
    expect(() =>
      parseArgv('top', [], { name: 'directory', min: 0, max: 1 }, ['--vcpus'], {}),
    ).toThrow(/--vcpus: unknown option for 'top'/);
    expect(() =>
      parseArgv('histo', [], { name: 'histogram file', min: 1, max: 1 }, ['f', '--bogus'], {}),
    ).toThrow(/--bogus: unknown option for 'histo'/);
  });
});

describe('--param: one parser, typed by the model, checked by its validation', () => {
  it.each([
    'toString=1',
    '__proto__=1',
    'constructor=1',
    'hasOwnProperty=1',
    '=1',
    'nope',
    'nope=1',
  ])('%j is not a model parameter', (text) => {
    expect(() => parseParam('--param', text, {})).toThrow(
      /is not valid \(expected KEY=VALUE with KEY a model parameter/,
    );
  });

  it.each([
    ['bursty=yes', /--param bursty: 'yes' is not valid \(expected true \| false\)/],
    ['compatYield=banana', /--param compatYield: 'banana' is not valid/],
    ['holdNsMean=', /--param holdNsMean: '' is not valid \(expected a number\)/],
    ['holdNsMean=abc', /--param holdNsMean: 'abc' is not valid/],
    ['timeout=1e400', /--param timeout: '1e400' is not valid/],
  ])('%j is refused with the reason', (text, message) => {
    expect(() => parseParam('--param', text, {})).toThrow(message);
    expect(() => parseExperiment(['--param', text])).toThrow(message);
  });

  it.each([
    ['run', 'hogs=3', /--param hogs: set by this command; use --hogs or --overcommit/],
    ['run', 'loopJobs=false', /--param loopJobs: set by this command; use --work/],
    ['experiment', 'lock=ticket', /use --locks/],
    ['experiment', 'seed=3', /use --seed/],
    ['experiment', 'hogs=3', /use --overcommit/],
    ['experiment', 'pinning=A', /use --scenarios/],
    ['experiment', 'jobWorkNs=5', /use --work/],
  ] as const)(
    '%s --param %s names the option that sets it instead of being silently overridden',
    (command, text, message) => {
      const parse =
        command === 'experiment'
          ? () => parseExperiment(['--param', text])
          : () => parseOptions(command, ['--param', text]);
      expect(parse).toThrow(message);
    },
  );

  it("a value the model rejects is refused at once, with the model's reason", () => {
    expect(() =>
      parseOptions('run', [
        '--lock',
        'pv-qspinlock',
        '--vcpus',
        '32',
        '--pcpus',
        '2',
        '--param',
        'pvHashEntries=4',
      ]),
    ).toThrow(
      /parameter pvHashEntries: '4' is not valid \(expected at least the vCPU count \(32\) with pv-qspinlock\)/,
    );
    expect(() =>
      parseExperiment([
        '--locks',
        'pv-qspinlock',
        '--param',
        'vcpus=32',
        '--param',
        'pvHashEntries=4',
      ]),
    ).toThrow(/--param pvHashEntries: '4' is not valid/);
  });
});

describe('values are shown on one short line', () => {
  it('a 100 KB value is cut, with its length; control characters are escaped', () => {
    const big = 'x'.repeat(100_000);
    expect(shown(big)).toBe(`${'x'.repeat(60)}… (100000 characters)`);
    expect(shown('a\nb\tc\x01')).toBe('a\\nb\\tc\\x01');
    let message = '';
    try {
      parseOptions('run', ['--seed', big]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.length).toBeLessThan(200);
    expect(message).not.toContain('\n');
  });
});

describe('numbers and guests the options refuse', () => {
  it.each(['0x2', '1e1', '.5', ' 2', '2 ', '-1', ''])(
    '--overcommit %j is refused as whole-number options refuse it',
    (v) => {
      expect(() => parseOptions('run', ['--overcommit', v])).toThrow(
        /--overcommit: .* is not valid/,
      );
    },
  );

  it('--overcommit takes decimals', () => {
    expect(() => parseOptions('run', ['--overcommit', '1.5'])).not.toThrow();
  });

  it('at most 64 guests and 1024 vCPUs in all; a guest seed past the largest wraps to 0', () => {
    const base = defaultConfig();
    const guest = (name: string, vcpus = 4) => ({ name, over: { vcpus }, layout: null });
    expect(() =>
      planGuests(
        base,
        Array.from({ length: 65 }, (_, i) => guest(`g${i}`, 1)),
      ),
    ).toThrow('at most 64 guests');
    expect(() =>
      planGuests(
        base,
        Array.from({ length: 5 }, (_, i) => guest(`g${i}`, 256)),
      ),
    ).toThrow('at most 1024 vCPUs in all the guests together (got 1280)');
    expect(guestSeed(Number.MAX_SAFE_INTEGER, 0)).toBe(Number.MAX_SAFE_INTEGER);
    expect(guestSeed(Number.MAX_SAFE_INTEGER, 1)).toBe(0);
    expect(guestSeed(Number.MAX_SAFE_INTEGER - 1, 3)).toBe(1);
    const top = { ...base, seed: Number.MAX_SAFE_INTEGER };
    expect(planGuests(top, [guest('a'), guest('b')]).map((p) => p.cfg.seed)).toEqual([
      Number.MAX_SAFE_INTEGER,
      0,
    ]);
  });
});
