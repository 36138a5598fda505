import { describe, expect, it } from 'vitest';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../../src/app/errors';
import { parseScript, ScriptedClock } from '../../../src/app/script';
import { defaultConfig } from '../../../src/sim/config';
import { Machine } from '../../../src/sim/machine';

describe('script lines (TIME KNOB=VALUE)', () => {
  it.each([
    ['10s hogs=12', 10e9, 'hogs', 'pvlockfs/hogs', '12'],
    ['  1500ms   timeout=1   ', 1.5e9, 'timeout', 'kvm/spinlocks/timeout', '1'],
    ['0s zero_stats=1 # at the start', 0, 'zero_stats', 'kvm/spinlocks/zero_stats', '1'],
    ['250us running=0', 250_000, 'running', 'pvlockfs/running', '0'],
    ['2m timeout=0x400', 120e9, 'timeout', 'kvm/spinlocks/timeout', '0x400'],
    ['1.5s hogs=0', 1.5e9, 'hogs', 'pvlockfs/hogs', '0'],
  ])('%j → at %d ns, %s', (line, atNs, knob, path, value) => {
    expect(parseScript(line, 's', 'kvm-2010')).toEqual([{ atNs, knob, path, value, where: 's:1' }]);
  });

  it('a counter fault: TIME fault EVENT, the rest of the line written to pvlockfs/fault/counters', () => {
    expect(
      parseScript('30s fault glitch=2 minus=5 files=kvm/spinlocks/taken # spike', 'f', 'kvm-2010'),
    ).toEqual([
      {
        atNs: 30e9,
        knob: 'fault',
        path: 'pvlockfs/fault/counters',
        value: 'glitch=2 minus=5 files=kvm/spinlocks/taken',
        where: 'f:1',
      },
    ]);
  });

  it('blank lines and comments are skipped; actions come in time order, ties in file order', () => {
    const text = '# incident\n\n20s timeout=1\n10s hogs=12\n10s zero_stats=1\r\n';
    expect(
      parseScript(text, 'f', 'kvm-2010').map((a) => `${a.atNs / 1e9}s ${a.knob} ${a.where}`),
    ).toEqual(['10s hogs f:4', '10s zero_stats f:5', '20s timeout f:3']);
  });

  it.each([
    ['hogs=12', "f:1:1: expected TIME KNOB=VALUE (e.g. 10s hogs=12), got 'hogs=12'"],
    [
      '10 hogs=12',
      "f:1:1: '10' is not a time (expected a number with a unit: ns, us, ms, s, m, h — e.g. 10s)",
    ],
    ['-1s hogs=12', "f:1:1: '-1s' is not a time"],
    [
      '10s  cpus=3',
      "f:1:6: 'cpus' is not a knob (expected hogs, running, timeout, zero_stats, reset_counters; or TIME fault EVENT)",
    ],
    ['10s hogs=abc', "f:1:10: 'abc' is not a value hogs accepts (EINVAL)"],
    ['10s hogs=2000', 'f:1:10: hogs 2000 is above 1024'],
    [
      '10s timeout=18446744073709551616',
      "f:1:13: '18446744073709551616' is not a value timeout accepts (ERANGE)",
    ],
    ['10s hogs 12', 'f:1:1: expected TIME KNOB=VALUE'],
    ['10s hogs=1 extra', 'f:1:1: expected TIME KNOB=VALUE'],
    ['\n\n   5s reset_counters=1', 'f:3:7: layout kvm-2010 has no reset_counters'],
    ['999999999h hogs=1', "f:1:1: '999999999h' is too far (at most 104 days)"],
    ['1s fault wrap=0', "f:1:10: 'wrap=0': wrap=K takes a whole number from 1 to 4294967295"],
    ['1s fault boom', 'f:1:10: \'boom\': "boom" is not a counter fault'],
    [
      '1s fault=wrap=3',
      'f:1:4: a counter fault is written TIME fault EVENT (e.g. 30s fault wrap=3)',
    ],
  ])('%j is refused: %s', (text, message) => {
    expect(() => parseScript(text, 'f', 'kvm-2010')).toThrow(UsageError);
    expect(() => parseScript(text, 'f', 'kvm-2010')).toThrow(message);
  });

  it('knobs follow the layout: timeout in the RFC and Xen layouts, reset_counters in qlockstat', () => {
    expect(parseScript('1s timeout=5', 'f', 'xen-2.6.35')[0].path).toBe('xen/spinlocks/timeout');
    expect(parseScript('1s zero_stats=1', 'f', 'kvm-guest-3.12')[0].path).toBe(
      'kvm-guest/spinlocks/zero_stats',
    );
    expect(parseScript('1s reset_counters=1', 'f', 'qlockstat')[0].path).toBe(
      'qlockstat/reset_counters',
    );
    expect(() => parseScript('1s timeout=5', 'f', 'qlockstat')).toThrow(
      'f:1:4: layout qlockstat has no timeout',
    );
  });

  it('the documented example parses', async () => {
    const text = await fsp.readFile(
      join(__dirname, '../../../docs/recipes/incident.script'),
      'utf8',
    );
    expect(
      parseScript(text, 'incident.script', 'kvm-2010').map((a) => [a.atNs / 1e9, a.knob, a.value]),
    ).toEqual([
      [10, 'hogs', '12'],
      [20, 'timeout', '1'],
      [25, 'zero_stats', '1'],
      [30, 'running', '0'],
    ]);
  });
});

describe('script lines with several guests (NAME/KNOB)', () => {
  const guests = [
    { name: 'web', layout: 'kvm-2010' as const },
    { name: 'db', layout: 'qlockstat' as const },
  ];
  it("names a guest's knob by its guest and the host's without", () => {
    const text = '1s web/timeout=1\n2s hogs=8\n3s db/reset_counters=1\n4s running=0\n';
    expect(parseScript(text, 'g', 'kvm-2010', guests).map((a) => a.path)).toEqual([
      'web/kvm/spinlocks/timeout',
      'pvlockfs/hogs',
      'db/qlockstat/reset_counters',
      'pvlockfs/running',
    ]);
  });
  it.each([
    ['1s timeout=1', 'g:1:4: with several guests, name the guest: web/timeout=…'],
    ['1s nope/timeout=1', "g:1:4: 'nope' is not a guest (expected web, db)"],
    ['1s web/hogs=1', "g:1:4: hogs is the host's: write it without a guest (hogs=…)"],
    ['1s db/timeout=1', 'g:1:4: layout qlockstat has no timeout'],
    [
      '1s web/colour=1',
      "g:1:8: 'colour' is not a knob (expected hogs, running, timeout, zero_stats, reset_counters; or TIME fault EVENT)",
    ],
  ])('%j → %s', (line, message) => {
    expect(() => parseScript(line, 'g', 'kvm-2010', guests)).toThrow(new UsageError(message));
  });
  it('without guests a name is refused', () => {
    expect(() => parseScript('1s web/timeout=1', 'g', 'kvm-2010')).toThrow(
      new UsageError("g:1:4: 'web/timeout': guests are named only with --guest"),
    );
  });
});

describe('the scripted clock', () => {
  it('applies each action at exactly its instant, whatever the steps the clock is advanced in', () => {
    const seen = (steps: number[]): string[] => {
      const m = new Machine(defaultConfig());
      const log: string[] = [];
      const actions = parseScript('3ms hogs=12\n3ms hogs=0\n7ms running=0', 'f', 'kvm-2010');
      const clock = new ScriptedClock(m, actions, (a) =>
        log.push(`${m.nowNs} ${a.knob}=${a.value} events=${m.events}`),
      );
      for (const t of steps) clock.runTo(t);
      return log;
    };
    const oneGo = seen([10e6]);
    expect(oneGo.map((l) => l.split(' ')[0])).toEqual(['3000000', '3000000', '7000000']);
    expect(seen([1e6, 3e6, 3e6, 5e6, 7e6, 10e6])).toEqual(oneGo);
    expect(seen([2_999_999, 3_000_001, 10e6])).toEqual(oneGo);
  });

  it('an action due at the target is applied before runTo returns', () => {
    const m = new Machine(defaultConfig());
    const log: number[] = [];
    const clock = new ScriptedClock(m, parseScript('5ms hogs=1', 'f', 'kvm-2010'), () =>
      log.push(m.nowNs),
    );
    clock.runTo(5e6);
    expect(log).toEqual([5e6]);
  });
});

describe('scripts a hostile or careless file cannot abuse', () => {
  it('a line of 128k characters is refused in one pass; exactly 100,000 lines are taken', () => {
    const long = `0 ${'='.repeat(131_072)} x`;
    // (The old line pattern backtracked over it for about a minute.)
    expect(() => parseScript(long, 'f', 'kvm-2010')).toThrow(
      'f:1:1: line longer than 4096 characters',
    );
    const many = '0s timeout=1\n'.repeat(100_000);
    expect(parseScript(many, 'f', 'kvm-2010')).toHaveLength(100_000);
    expect(() => parseScript(`${many}0s timeout=1\n`, 'f', 'kvm-2010')).toThrow(
      'more than 100000 lines',
    );
  });

  it('a file other users cannot read is never quoted', () => {
    expect(() => parseScript('secret:$6$abc', 'f', 'kvm-2010', [], false)).toThrow(
      'f:1:1: expected TIME KNOB=VALUE (e.g. 10s hogs=12), got something else',
    );
    expect(() => parseScript('10s secret=1', 'f', 'kvm-2010', [], false)).toThrow(
      /this is not a knob/,
    );
  });
});
