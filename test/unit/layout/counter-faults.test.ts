import { describe, expect, it } from 'vitest';
import { DebugFs } from '../../../src/debugfs/fs';
import { CounterFaults, parseCounterEvent } from '../../../src/layout/counter-faults';
import { addCounterControl } from '../../../src/layout/faults';
import { machinePort } from '../../../src/layout/port';
import { buildTree } from '../../../src/layout/tree';
import { defaultConfig } from '../../../src/sim/config';
import { Machine } from '../../../src/sim/machine';

/** A guest's tree with its counter faults, after `ns` simulated ns. */
function setup(ns = 50e6): {
  m: Machine;
  fs: DebugFs;
  read: (f: string) => string;
  counters: CounterFaults;
} {
  const m = new Machine(defaultConfig());
  const port = machinePort(m, { abi: 'modern' }, { get: () => 1, set: () => undefined });
  const root = buildTree(port, 'modern', 0);
  const g = m.guests[0];
  const counters = new CounterFaults(
    [{ stats: g.stats, qstats: g.qstats, root, layout: 'kvm-2010', prefix: '' }],
    () => m.nowNs,
  );
  addCounterControl(root, counters, 0);
  m.runUntil(ns);
  const fs = new DebugFs(root, 'modern', () => 0);
  const read = (f: string): string => {
    const fh = fs.open(f);
    try {
      return fs.read(fh, 0, 4096).toString().trim();
    } finally {
      fs.release(fh);
    }
  };
  return { m, fs, read, counters };
}

function write(fs: DebugFs, f: string, text: string): void {
  const fh = fs.open(f);
  try {
    fs.write(fh, Buffer.from(`${text}\n`));
  } finally {
    fs.release(fh);
  }
}

describe('counter faults (pvlockfs/fault/counters)', () => {
  it('parses the events and refuses anything else', () => {
    expect(parseCounterEvent('wrap=3')).toEqual({ kind: 'wrap', k: 3 });
    expect(parseCounterEvent(' reset\n')).toEqual({ kind: 'reset' });
    expect(parseCounterEvent('glitch=2 minus=5 files=kvm/spinlocks/taken')).toEqual({
      kind: 'glitch',
      reads: 2,
      minus: 5,
      files: 'kvm/spinlocks/taken',
    });
    expect(parseCounterEvent('reboot=1.5s')).toEqual({ kind: 'reboot', forNs: 1.5e9 });
    expect(parseCounterEvent('chmod=0400')).toEqual({ kind: 'chmod', mode: 0o400 });
    expect(parseCounterEvent('chmod=restore')).toEqual({ kind: 'chmod', mode: null });
    for (const bad of [
      'wrap',
      'wrap=0',
      'wrap=x',
      'reset=1',
      'freeze now',
      'glitch=1 x=2',
      'boom',
      'reboot',
      'reboot=2',
      'reboot=11m',
      'chmod=9',
      'chmod',
    ])
      expect(() => parseCounterEvent(bad), bad).toThrow();
  });

  it('wrap=K puts every u32 counter and bucket K increments before 2^32 and u64s before 2^64', () => {
    const { m, fs, read } = setup();
    write(fs, 'pvlockfs/fault/counters', 'wrap=3');
    expect(read('kvm/spinlocks/taken_slow')).toBe('4294967293');
    expect(read('kvm/spinlocks/taken')).toBe(String(2n ** 64n - 3n));
    expect(read('kvm/spinlocks/histo_total').split(' ')).toEqual(Array(31).fill('4294967293'));
    m.runUntil(100e6);
    // After more than 3 slow acquisitions, taken_slow has wrapped to a small number.
    expect(Number(read('kvm/spinlocks/taken_slow'))).toBeLessThan(100_000);
    expect(BigInt(read('kvm/spinlocks/taken'))).toBeLessThan(1_000_000n);
  });

  it('reset zeroes every statistic at once, the knobs untouched', () => {
    const { fs, read } = setup();
    write(fs, 'kvm/spinlocks/timeout', '77');
    expect(Number(read('kvm/spinlocks/taken'))).toBeGreaterThan(0);
    write(fs, 'pvlockfs/fault/counters', 'reset');
    expect(read('kvm/spinlocks/taken')).toBe('0');
    expect(read('kvm/spinlocks/histo_blocked')).toBe(Array(31).fill('0').join(' '));
    expect(read('kvm/spinlocks/timeout')).toBe('77');
  });

  it('freeze holds what the files show while the counters go on; thaw shows them again', () => {
    const { m, fs, read } = setup();
    write(fs, 'pvlockfs/fault/counters', 'freeze');
    const held = read('kvm/spinlocks/taken');
    m.runUntil(100e6);
    expect(read('kvm/spinlocks/taken')).toBe(held);
    expect(read('pvlockfs/fault/counters')).toBe('events=1\nfrozen=1\nglitching_files=0\nloaded=1');
    write(fs, 'pvlockfs/fault/counters', 'thaw');
    expect(BigInt(read('kvm/spinlocks/taken'))).toBeGreaterThan(BigInt(held));
  });

  it('glitch shows 0 (or the value minus D) for the next N reads of the chosen files only', () => {
    const { fs, read } = setup();
    const taken = read('kvm/spinlocks/taken');
    const released = read('kvm/spinlocks/released');
    write(fs, 'pvlockfs/fault/counters', 'glitch=2 minus=5 files=kvm/spinlocks/taken');
    expect(read('kvm/spinlocks/released')).toBe(released);
    expect(read('kvm/spinlocks/taken')).toBe(String(BigInt(taken) - 5n));
    expect(read('kvm/spinlocks/taken')).toBe(String(BigInt(taken) - 5n));
    expect(read('kvm/spinlocks/taken')).toBe(taken);
    write(fs, 'pvlockfs/fault/counters', 'glitch=1 files=kvm/spinlocks/histo_*');
    expect(read('kvm/spinlocks/histo_total')).toBe(Array(31).fill('0').join(' '));
  });

  it('a bad event is EINVAL and changes nothing', () => {
    const { fs, read } = setup();
    const before = read('kvm/spinlocks/taken');
    expect(() => write(fs, 'pvlockfs/fault/counters', 'wrap=0')).toThrow(/EINVAL/);
    expect(read('kvm/spinlocks/taken')).toBe(before);
    expect(read('pvlockfs/fault/counters')).toBe('events=0\nfrozen=0\nglitching_files=0\nloaded=1');
  });

  it('unload: lookups ENOENT, files opened before EIO (also once it is back); load: back zeroed, knobs at boot, in its place', () => {
    const { fs, read } = setup();
    write(fs, 'kvm/spinlocks/timeout', '5');
    const held = fs.open('kvm/spinlocks/taken');
    write(fs, 'pvlockfs/fault/counters', 'unload');
    expect(() => fs.open('kvm/spinlocks/taken')).toThrow(/ENOENT/);
    expect(fs.readdir('/')).toEqual(['pvlockfs']);
    expect(() => fs.read(held, 0, 64)).toThrow(/EIO/);
    expect(read('pvlockfs/fault/counters')).toMatch(/loaded=0$/);
    write(fs, 'pvlockfs/fault/counters', 'load');
    expect(fs.readdir('/')).toEqual(['kvm', 'pvlockfs']);
    expect(read('kvm/spinlocks/taken')).toBe('0');
    expect(read('kvm/spinlocks/timeout')).toBe('1024');
    expect(() => fs.read(held, 0, 64)).toThrow(/EIO/);
    fs.release(held);
  });

  it('reboot=D: gone now, back once the simulated clock has run D', () => {
    const { m, fs, read, counters } = setup();
    write(fs, 'pvlockfs/fault/counters', 'reboot=5ms');
    counters.clockAdvanced();
    expect(() => read('kvm/spinlocks/taken')).toThrow(/ENOENT/);
    m.runUntil(m.nowNs + 4_999_999);
    counters.clockAdvanced();
    expect(() => read('kvm/spinlocks/taken')).toThrow(/ENOENT/);
    m.runUntil(m.nowNs + 1);
    counters.clockAdvanced();
    expect(Number(read('kvm/spinlocks/taken'))).toBeLessThan(10_000);
  });

  it('chmod=MODE gives every file of the statistics directory that mode; restore gives their own back', () => {
    const { fs } = setup();
    write(fs, 'pvlockfs/fault/counters', 'chmod=0400');
    expect(fs.getattr('kvm/spinlocks/timeout').mode & 0o7777).toBe(0o400);
    expect(fs.getattr('kvm/spinlocks/taken').mode & 0o7777).toBe(0o400);
    expect(fs.getattr('kvm/spinlocks').mode & 0o7777).toBe(0o755);
    write(fs, 'pvlockfs/fault/counters', 'chmod=0000');
    write(fs, 'pvlockfs/fault/counters', 'chmod=restore');
    expect(fs.getattr('kvm/spinlocks/timeout').mode & 0o7777).toBe(0o644);
    expect(fs.getattr('kvm/spinlocks/taken').mode & 0o7777).toBe(0o444);
  });
});
