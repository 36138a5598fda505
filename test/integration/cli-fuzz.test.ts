import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTION_SPECS } from '../../src/cli/options';
import { Rng } from '../../src/sim/rng';
import { ROOT, run } from './harness';

/** Values a careless or hostile user may give: malformed, huge, prototype-named, shell-looking. */
const VALUES = [
  '',
  ' ',
  '-1',
  '0',
  '1',
  '3',
  '1e309',
  'NaN',
  'Infinity',
  '0x10',
  '08',
  '4294967296',
  '18446744073709551616',
  '__proto__',
  'constructor',
  'toString=1',
  '__proto__=1',
  'constructor=x',
  'hasOwnProperty=1',
  'holdNsMean=',
  'bursty=yes',
  'pvHashEntries=4',
  'vcpus=256',
  'lock=ticket',
  'x'.repeat(100_000),
  'a\nb',
  '$(id)',
  '`id`',
  '"',
  '\\',
  'é',
  'A,A,B',
  ',,',
  '-',
  '--',
  '1ms',
  '2ms',
  '0s',
  '-5ms',
  '1.5.5s',
  '99999999999h',
  'ticket,mcs',
  'C',
  'modern',
  'yield-to',
  'qlockstat',
];
/** Paths for positional arguments and --out/--svg: none of them a real guest or an empty mount point. */
const PATHS = [
  '',
  '/nonexistent/pvlockfs-fuzz',
  '/dev/zero',
  '/proc/self',
  '/etc/passwd',
  '/proc/x/y',
  'x'.repeat(5000),
  '-odd',
];

const RUN_FLAGS = OPTION_SPECS.filter((s) => s.commands.includes('run')).map((s) => s.flag);
const MOUNT_FLAGS = OPTION_SPECS.filter((s) => s.commands.includes('mount')).map((s) => s.flag);
// --named is left out: it is a long run by design, not a malformed input.
const EXPERIMENT_FLAGS = [
  '--reps',
  '--seed',
  '--scenarios',
  '--overcommit',
  '--locks',
  '--work',
  '--cap',
  '--jobs',
  '--param',
  '--json',
  '--out',
];
const UNKNOWN = ['--bogus', '-x', '--=', '---', '--help=1', '--param='];
/**
 * Options that write a file: they draw from names inside the fuzz's own directory (and devices,
 * which must be refused), never a system file that a passing write would replace.
 */
const OUTPUT_FLAGS = new Set(['--trace', '--trace-svg', '--out', '--svg', '--trace-dir']);
const OUTPUT_PATHS = [
  '',
  'x'.repeat(5000),
  '-odd',
  'sub/none/out',
  'out.json',
  '/dev/null',
  '/dev/zero',
];

/**
 * Each command with arguments that keep a well-formed call short (a tiny run, an experiment of
 * one cell, a mount point that does not exist), and the flags the fuzz draws from.
 */
const COMMANDS: Record<string, { base: string[]; flags: string[]; positional: boolean }> = {
  run: { base: ['--sim-time', '2ms'], flags: RUN_FLAGS, positional: true },
  mount: { base: ['/nonexistent/pvlockfs-fuzz-mnt'], flags: MOUNT_FLAGS, positional: true },
  experiment: {
    base: [
      '--scenarios',
      'A',
      '--overcommit',
      '1',
      '--reps',
      '1',
      '--work',
      '1ms',
      '--locks',
      'ticket',
      '--jobs',
      '1',
    ],
    flags: EXPERIMENT_FLAGS,
    positional: true,
  },
  histo: { base: ['/nonexistent/histo_total'], flags: ['--svg'], positional: true },
  top: { base: ['/nonexistent/pvlockfs-fuzz'], flags: [], positional: true },
  version: { base: [], flags: [], positional: true },
  help: { base: [], flags: [], positional: true },
  bogus: { base: [], flags: [], positional: false },
};

function fuzzCase(seed: number): string[] {
  const r = new Rng(seed, 'cli-fuzz');
  const names = Object.keys(COMMANDS);
  const command = names[r.int(0, names.length - 1)];
  const spec = COMMANDS[command];
  const argv = [command, ...spec.base];
  // Half the time the command's own path is one of the hostile ones (never '' for mount: that
  // is the working directory, an empty directory it would really mount).
  const own = PATHS.filter((p) => command !== 'mount' || p !== '');
  if (['mount', 'histo', 'top'].includes(command) && r.uniform() < 0.5)
    argv[1] = own[r.int(0, own.length - 1)];
  for (let n = r.int(1, 3); n > 0; n--) {
    const u = r.uniform();
    const flags = [...spec.flags, ...UNKNOWN];
    const value = u < 0.5 ? VALUES[r.int(0, VALUES.length - 1)] : PATHS[r.int(0, PATHS.length - 1)];
    if (u < 0.2 && spec.positional) argv.push(value);
    else {
      const flag = flags[r.int(0, flags.length - 1)];
      const v = OUTPUT_FLAGS.has(flag) ? OUTPUT_PATHS[r.int(0, OUTPUT_PATHS.length - 1)] : value;
      if (r.uniform() < 0.5) argv.push(`${flag}=${v}`);
      else argv.push(flag, v);
    }
  }
  return argv;
}

describe('seeded CLI fuzz over every command: exit 0, 1 or 2 with a short message, never a stack, hang or runaway memory', () => {
  let work: string;
  beforeAll(async () => {
    work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-fuzz-'));
  });
  afterAll(async () => {
    await fsp.rm(work, { recursive: true, force: true });
    // An output option given a device writes through it: the devices are still devices.
    for (const dev of ['/dev/null', '/dev/zero'])
      expect((await fsp.lstat(dev)).isCharacterDevice(), dev).toBe(true);
  });

  const seeds = Array.from({ length: 120 }, (_, i) => 500 + i);
  it.concurrent.each(seeds)('case %i', async (seed) => {
    const argv = fuzzCase(seed);
    // The CLI itself (built by npm test's setup), with a heap cap: runaway memory ends as a crash.
    const r = await run(
      process.execPath,
      ['--max-old-space-size=256', join(ROOT, 'dist', 'cli', 'main.js'), ...argv],
      { timeoutMs: 90_000, cwd: work },
    );
    const shownArgv = JSON.stringify(
      argv.map((a) => (a.length > 80 ? `${a.slice(0, 20)}…(${a.length})` : a)),
    );
    expect([0, 1, 2], `exit ${r.code} for ${shownArgv}: ${r.stderr.slice(0, 500)}`).toContain(
      r.code,
    );
    expect(r.stderr, shownArgv).not.toMatch(/internal error|\n\s+at .+:\d+:\d+|Error: /);
    expect(r.stderr.length, shownArgv).toBeLessThan(2000);
    if (r.code !== 0) expect(r.stderr, shownArgv).toMatch(/^pvlockfs: \S/);
  });
});

describe('the refusals the hardening review found, through the real CLI', () => {
  const cli = (args: string[]) =>
    run(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), ...args], { timeoutMs: 60_000 });
  const label = (args: readonly string[]): string =>
    args.map((a) => (a.length > 40 ? `${a.slice(0, 10)}…(${a.length})` : a)).join(' ');
  const ROWS: [string[], number, RegExp][] = [
    [['run', '-x'], 2, /-x: unknown option for 'run'/],
    [['run', 'foo'], 2, /'run' takes no arguments, got 'foo'/],
    [['run', '--seed=3', '--sim-time=1ms', '--param=holdNsMean=1500'], 0, /^$/],
    [['histo', '/dev/null', '--bogus'], 2, /--bogus: unknown option for 'histo'/],
    [['histo', '/dev/zero'], 1, /\/dev\/zero is not a regular file/],
    // A character device named directly is written through, never replaced (checked in afterAll).
    [['run', '--sim-time', '1ms', '--trace', '/dev/null'], 0, /wrote \/dev\/null: simulated/],
    [['run', '--sim-time', '1ms', '--trace-svg', '/dev/zero'], 0, /wrote \/dev\/zero: simulated/],
    [['top', '--vcpus'], 2, /--vcpus: unknown option for 'top'/],
    [['experiment', '--reps=3', '--out', ''], 2, /--out: empty \(expected a directory\)/],
    [
      ['experiment', '--param', 'bursty=yes'],
      2,
      /--param bursty: 'yes' is not valid \(expected true \| false\)/,
    ],
    [
      ['experiment', '--param', 'compatYield=banana'],
      2,
      /--param compatYield: 'banana' is not valid/,
    ],
    [['experiment', '--param', 'lock=ticket'], 2, /--param lock: set by this command; use --locks/],
    [['experiment', '--param', 'seed=5'], 2, /--param seed: set by this command; use --seed/],
    [
      ['run', '--param', 'hogs=7'],
      2,
      /--param hogs: set by this command; use --hogs or --overcommit/,
    ],
    [['run', '--param', 'loopJobs=false'], 2, /--param loopJobs: set by this command; use --work/],
    [['run', '--param', 'toString=1'], 2, /--param: 'toString=1' is not valid/],
    [['run', '--param', '__proto__=1'], 2, /--param: '__proto__=1' is not valid/],
    [
      ['mount', '/nonexistent/x', '--param', 'constructor=1'],
      2,
      /--param: 'constructor=1' is not valid/,
    ],
    [
      [
        'run',
        '--lock',
        'pv-qspinlock',
        '--vcpus',
        '32',
        '--pcpus',
        '2',
        '--param',
        'pvHashEntries=4',
      ],
      2,
      /parameter pvHashEntries: '4' is not valid \(expected at least the vCPU count \(32\) with pv-qspinlock\)/,
    ],
    [
      [
        'experiment',
        '--locks',
        'pv-qspinlock',
        '--param',
        'vcpus=32',
        '--param',
        'pvHashEntries=4',
      ],
      2,
      /--param pvHashEntries: '4' is not valid .* \(in cell A-1x, pv-qspinlock\)/,
    ],
    [
      ['run', '--seed', 'x'.repeat(100_000)],
      2,
      /--seed: 'x{60}.+ \(100000 characters\)' is not valid/,
    ],
  ];
  it.each(ROWS.map(([args, code, message]) => [label(args), args, code, message] as const))(
    '%s → exit %i',
    async (_label, args, code, message) => {
      const r = await cli([...args]);
      expect(r.code, r.stderr).toBe(code);
      expect(code === 0 ? r.stderr : r.stderr.split('\n')[0]).toMatch(message);
      expect(r.stderr.length).toBeLessThan(400);
    },
  );
});
