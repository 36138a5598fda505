import { describe, expect, it } from 'vitest';
import { parseDurationNs } from '../../../src/app/duration';
import { UsageError } from '../../../src/app/errors';
import { parseExperiment } from '../../../src/cli/experiment';
import { OPTION_SPECS, parseOptions } from '../../../src/cli/options';
import { DEFAULT_SEED } from '../../../src/sim/config';

describe('command-line options', () => {
  it('defaults: 4 vCPUs, 4 pCPUs, 2x (4 hogs), pinning B, pv-yield, timeout 1024, documented seed', () => {
    const o = parseOptions('run', []);
    expect(o.sim).toMatchObject({
      vcpus: 4,
      pcpus: 4,
      hogs: 4,
      pinning: 'B',
      lock: 'pv-yield',
      timeout: 1024,
      seed: DEFAULT_SEED,
    });
    expect(o.simTimeNs).toBe(2e9);
  });

  // The help text's "(default X)" must be the value a run without the flag uses.
  it.each([
    ['--seed', (o: ReturnType<typeof parseOptions>) => o.sim.seed],
    ['--vcpus', (o: ReturnType<typeof parseOptions>) => o.sim.vcpus],
    ['--pcpus', (o: ReturnType<typeof parseOptions>) => o.sim.pcpus],
    [
      '--overcommit',
      (o: ReturnType<typeof parseOptions>) => (o.sim.hogs + o.sim.vcpus) / o.sim.pcpus,
    ],
    ['--c-hog-share', (o: ReturnType<typeof parseOptions>) => o.sim.cHogShare],
    ['--timeout', (o: ReturnType<typeof parseOptions>) => o.sim.timeout],
    ['--speed', (o: ReturnType<typeof parseOptions>) => o.speed],
  ])('the help states the real default of %s', (flag, actual) => {
    const spec = OPTION_SPECS.find((s) => s.flag === flag);
    const stated = /\(default ([0-9.]+)[);]/.exec(spec?.help ?? '');
    expect(stated, `${flag}: ${spec?.help}`).not.toBeNull();
    const o = parseOptions(flag === '--speed' ? 'mount' : 'run', []);
    expect(Number(stated![1])).toBe(actual(o));
  });

  it('--overcommit K gives K × pCPUs − vCPUs hogs; --hogs sets them directly', () => {
    expect(parseOptions('run', ['--overcommit', '4']).sim.hogs).toBe(12);
    expect(parseOptions('run', ['--overcommit=1']).sim.hogs).toBe(0);
    expect(parseOptions('run', ['--hogs', '3']).sim.hogs).toBe(3);
    expect(parseOptions('run', ['--vcpus', '16', '--pcpus', '8']).sim.hogs).toBe(0);
  });

  it.each([
    [
      ['--lock', 'mcs'],
      /--lock: 'mcs' is not valid \(expected ticket \| pv-yield \| pv-ticket \| directed-yield \| xen-block \| pv-qspinlock \| tas \| pv-hybrid\)/,
    ],
    [['--timeout', '4294967296'], /--timeout: '4294967296' is not valid/],
    [['--sim-time', '10'], /--sim-time: '10' is not a duration/],
    [['--overcommit', '2', '--hogs', '1'], /give one or the other/],
    [['--frobnicate'], /--frobnicate: unknown option/],
    [['--seed'], /--seed: missing value/],
    [['--json=yes'], /--json: takes no value/],
    [['--param', 'nope=1'], /--param: 'nope=1' is not valid/],
    [['--param', 'holdNsMean=-5'], /parameter holdNsMean: '-5' is not valid/],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parseOptions('run', argv as string[])).toThrow(UsageError);
    expect(() => parseOptions('run', argv as string[])).toThrow(message);
  });

  it.each([
    ['ticket', 'kvm-2010'],
    ['pv-yield', 'kvm-2010'],
    ['directed-yield', 'kvm-2010'],
    ['xen-block', 'xen-2.6.35'],
    ['pv-ticket', 'kvm-guest-3.12'],
    ['pv-qspinlock', 'qlockstat'],
  ])('--lock %s presents layout %s; another --layout is refused', (lock, layout) => {
    expect(parseOptions('mount', ['--lock', lock]).layout).toBe(layout);
    expect(parseOptions('mount', ['--lock', lock, '--layout', layout]).layout).toBe(layout);
    const other = layout === 'qlockstat' ? 'kvm-2010' : 'qlockstat';
    expect(() => parseOptions('mount', ['--lock', lock, '--layout', other])).toThrow(
      new RegExp(`--layout ${other} does not go with --lock ${lock}`),
    );
  });

  it('mount-only and run-only flags are kept apart', () => {
    expect(() => parseOptions('run', ['--abi', 'modern'])).toThrow(/unknown option for 'run'/);
    expect(() => parseOptions('mount', ['--json'])).toThrow(/unknown option for 'mount'/);
    expect(parseOptions('mount', ['--abi', '2.6.35', '--speed', '10']).abi).toBe('2.6.35');
  });

  it('each mechanism of the 2010 host has a switch and an ablation; the last one given wins', () => {
    for (const [flag, key] of [
      ['shadow-paging', 'shadowPaging'],
      ['vfs-locks', 'vfsLocks'],
      ['ipi-under-lock', 'ipiUnderLock'],
    ] as const) {
      expect(parseOptions('run', []).sim[key]).toBe(false);
      expect(parseOptions('run', [`--${flag}`]).sim[key]).toBe(true);
      expect(parseOptions('mount', [`--${flag}`, `--no-${flag}`, 'dir']).sim[key]).toBe(false);
      expect(parseOptions('run', ['--param', `${key}=true`]).sim[key]).toBe(true);
      expect(parseExperiment([`--${flag}`]).params[key]).toBe(true);
      expect(parseExperiment([`--${flag}`, `--no-${flag}`]).params[key]).toBe(false);
    }
  });

  it('--param sets any model parameter with its type', () => {
    const o = parseOptions('run', ['--param', 'holdNsMean=1500', '--param', 'bursty=false']);
    expect(o.sim.holdNsMean).toBe(1500);
    expect(o.sim.bursty).toBe(false);
  });

  it('durations take a unit', () => {
    expect(parseDurationNs('--x', '2s')).toBe(2e9);
    expect(parseDurationNs('--x', '500ms')).toBe(5e8);
    expect(parseDurationNs('--x', '1.5us')).toBe(1500);
    expect(() => parseDurationNs('--x', '0s')).toThrow(/out of range/);
  });
});

describe('experiment options', () => {
  it('a value listed twice runs once (it would otherwise count as extra repetitions)', () => {
    const o = parseExperiment([
      '--scenarios',
      'A,A,C',
      '--locks',
      'ticket,pv-yield,ticket',
      '--overcommit',
      '2,1,2',
    ]);
    expect(o.scenarios).toEqual(['A', 'C']);
    expect(o.locks).toEqual(['ticket', 'pv-yield']);
    expect(o.overcommits).toEqual([2, 1]);
  });
});
