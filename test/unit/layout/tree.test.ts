import { describe, expect, it } from 'vitest';
import { FsError } from '../../../src/debugfs/errors';
import { DebugFs } from '../../../src/debugfs/fs';
import { writeAttr } from '../../../src/debugfs/file';
import { AttrNode, lookup } from '../../../src/debugfs/nodes';
import { machinePort } from '../../../src/layout/port';
import {
  buildTree,
  CONTROL_FILES,
  KVM_GUEST_FILES,
  Layout,
  QLOCKSTAT_FILES,
  readableFiles,
  readAll,
  SPINLOCK_FILES,
  XEN_FILES,
} from '../../../src/layout/tree';
import { defaultConfig } from '../../../src/sim/config';
import { Machine } from '../../../src/sim/machine';

function setup(): { m: Machine; fs: DebugFs; running: { v: number } } {
  const m = new Machine(defaultConfig());
  const running = { v: 1 };
  const port = machinePort(
    m,
    { abi: 'modern' },
    { get: () => running.v, set: (v) => (running.v = v) },
  );
  return { m, fs: new DebugFs(buildTree(port, 'modern', 0), 'modern', () => 0), running };
}

describe('layout: the RFC tree bound to the simulation', () => {
  it('has exactly the files of docs/debugfs.md §1 with their modes and types', () => {
    const { fs } = setup();
    const modes = Object.fromEntries(
      [...SPINLOCK_FILES, ...CONTROL_FILES].map((p) => [
        p,
        (fs.getattr(p).mode & 0o777).toString(8),
      ]),
    );
    expect(modes).toEqual({
      'kvm/spinlocks/zero_stats': '644',
      'kvm/spinlocks/timeout': '644',
      'kvm/spinlocks/taken': '444',
      'kvm/spinlocks/taken_slow': '444',
      'kvm/spinlocks/released': '444',
      'kvm/spinlocks/time_spinning': '444',
      'kvm/spinlocks/time_blocked': '444',
      'kvm/spinlocks/time_total': '444',
      'kvm/spinlocks/histo_total': '444',
      'kvm/spinlocks/histo_spinning': '444',
      'kvm/spinlocks/histo_blocked': '444',
      'pvlockfs/running': '644',
      'pvlockfs/sim_time_ns': '444',
      'pvlockfs/seed': '444',
      'pvlockfs/hogs': '644',
      'pvlockfs/config': '444',
    });
    expect(fs.readdir('/')).toEqual(['kvm', 'pvlockfs']);
    expect(fs.readdir('/kvm')).toEqual(['spinlocks']);
    const widths = ['zero_stats', 'timeout', 'taken', 'taken_slow', 'released'].map(
      (n) => (lookup(fs.root, `kvm/spinlocks/${n}`) as AttrNode).width,
    );
    expect(widths).toEqual([8, 32, 64, 32, 64]);
  });

  it('boot values: zero_stats 0, timeout 1024, all-zero histograms of 62 bytes', () => {
    const { fs } = setup();
    const files = readAll(fs, SPINLOCK_FILES);
    expect(files['kvm/spinlocks/zero_stats']).toBe('0\n');
    expect(files['kvm/spinlocks/timeout']).toBe('1024\n');
    expect(files['kvm/spinlocks/histo_total']).toHaveLength(62);
  });

  it('knob writes land in the simulation', () => {
    const { m, fs, running } = setup();
    writeAttr(lookup(fs.root, 'kvm/spinlocks/timeout') as AttrNode, 'modern', Buffer.from('7\n'));
    expect(m.guest.stats.timeout[0]).toBe(7);
    writeAttr(lookup(fs.root, 'kvm/spinlocks/zero_stats') as AttrNode, 'modern', Buffer.from('1'));
    expect(m.guest.stats.zeroStats[0]).toBe(1);
    writeAttr(lookup(fs.root, 'pvlockfs/running') as AttrNode, 'modern', Buffer.from('0'));
    expect(running.v).toBe(0);
    writeAttr(lookup(fs.root, 'pvlockfs/hogs') as AttrNode, 'modern', Buffer.from('9'));
    expect(m.hogCount).toBe(9);
    expect(readAll(fs, ['pvlockfs/config'])['pvlockfs/config']).toMatch(/^hogs=9$/m);
  });

  it('an absurd hog count is refused with EINVAL and changes nothing', () => {
    const { m, fs } = setup();
    expect(() =>
      writeAttr(lookup(fs.root, 'pvlockfs/hogs') as AttrNode, 'modern', Buffer.from('5000')),
    ).toThrow(FsError);
    expect(m.hogCount).toBe(4);
  });
});

describe('layout kvm-guest-3.12 (the 3.12–4.8 KVM pv ticketlock)', () => {
  it('has exactly the files of docs/debugfs.md §5 with their modes and widths, fed by pv-ticket', () => {
    const m = new Machine({ ...defaultConfig(), lock: 'pv-ticket' });
    const port = machinePort(m, {}, { get: () => 1, set: () => undefined });
    const fs = new DebugFs(buildTree(port, 'modern', 0, 'kvm-guest-3.12'), 'modern', () => 0);
    expect(fs.readdir('/')).toEqual(['kvm-guest', 'pvlockfs']);
    const modes = Object.fromEntries(
      KVM_GUEST_FILES.map((p) => [p.split('/')[2], (fs.getattr(p).mode & 0o777).toString(8)]),
    );
    expect(modes).toEqual({
      zero_stats: '644',
      taken_slow: '444',
      taken_slow_pickup: '444',
      released_slow: '444',
      released_slow_kicked: '444',
      time_blocked: '444',
      histo_blocked: '444',
    });
    m.runUntil(3_000_000_000);
    const files = readAll(fs, KVM_GUEST_FILES);
    expect(Number(files['kvm-guest/spinlocks/taken_slow'])).toBeGreaterThan(0);
    expect(Number(files['kvm-guest/spinlocks/released_slow_kicked'])).toBeLessThanOrEqual(
      Number(files['kvm-guest/spinlocks/released_slow']),
    );
    expect(files['kvm-guest/spinlocks/histo_blocked']).toMatch(/^\d+( \d+){30}\n$/);
  });
});

function layoutFs(lock: 'xen-block' | 'pv-qspinlock', layout: Layout): { m: Machine; fs: DebugFs } {
  const m = new Machine({ ...defaultConfig(), lock, pinning: 'C', hogs: 8 });
  const port = machinePort(m, {}, { get: () => 1, set: () => undefined });
  return { m, fs: new DebugFs(buildTree(port, 'modern', 0, layout), 'modern', () => 0) };
}

describe('layout xen-2.6.35 (Xen 2.6.35 xen/spinlocks)', () => {
  it('has exactly the files of docs/debugfs.md §5 with their modes, fed by xen-block', () => {
    const { m, fs } = layoutFs('xen-block', 'xen-2.6.35');
    expect(fs.readdir('/')).toEqual(['xen', 'pvlockfs']);
    const modes = Object.fromEntries(
      XEN_FILES.map((p) => [p.split('/')[2], (fs.getattr(p).mode & 0o777).toString(8)]),
    );
    expect(modes).toEqual({
      zero_stats: '644',
      timeout: '644',
      taken: '444',
      taken_slow: '444',
      taken_slow_nested: '444',
      taken_slow_pickup: '444',
      taken_slow_spurious: '444',
      taken_slow_irqenable: '444',
      released: '444',
      released_slow: '444',
      released_slow_kicked: '444',
      time_spinning: '444',
      time_blocked: '444',
      time_total: '444',
      histo_total: '444',
      histo_spinning: '444',
      histo_blocked: '444',
    });
    m.runUntil(2_000_000_000);
    const files = readAll(fs, XEN_FILES);
    for (const p of XEN_FILES)
      expect(files[p], p).toMatch(p.includes('histo_') ? /^\d+( \d+){30}\n$/ : /^\d+\n$/);
    expect(Number(files['xen/spinlocks/taken_slow'])).toBeGreaterThan(0);
    expect(files['xen/spinlocks/released_slow_kicked']).toBe(files['xen/spinlocks/released_slow']);
    // The knobs work as in the RFC's layout: zero_stats clears at the next update.
    writeAttr(lookup(fs.root, 'xen/spinlocks/zero_stats') as AttrNode, 'modern', Buffer.from('1'));
    m.runUntil(2_100_000_000);
    expect(Number(readAll(fs, ['xen/spinlocks/taken'])['xen/spinlocks/taken'])).toBeLessThan(
      Number(files['xen/spinlocks/taken']),
    );
  });
});

describe('layout qlockstat (4.5+ qspinlock statistics)', () => {
  it('has the 13 counters 0400 and reset_counters 0200, fed by pv-qspinlock', () => {
    const { m, fs } = layoutFs('pv-qspinlock', 'qlockstat');
    expect(fs.readdir('/')).toEqual(['qlockstat', 'pvlockfs']);
    expect(fs.readdir('qlockstat')).toEqual(QLOCKSTAT_FILES.map((p) => p.split('/')[1]));
    for (const p of QLOCKSTAT_FILES)
      expect((fs.getattr(p).mode & 0o777).toString(8), p).toBe(
        p.endsWith('reset_counters') ? '200' : '400',
      );
    expect(readableFiles('qlockstat')).toEqual(QLOCKSTAT_FILES.slice(0, 13));
    m.runUntil(2_000_000_000);
    const files = readAll(fs, readableFiles('qlockstat'));
    expect(files['qlockstat/pv_hash_hops']).toMatch(/^\d+\.\d{2,3}\n$/);
    expect(Number(files['qlockstat/lock_slowpath'])).toBeGreaterThan(0);
    expect(files['qlockstat/lock_pending']).toBe('0\n');
  });

  it('reads afresh at every read and at any offset; reset_counters: read EBADF, any write clears', () => {
    const { m, fs } = layoutFs('pv-qspinlock', 'qlockstat');
    m.runUntil(2_000_000_000);
    const fh = fs.open('qlockstat/lock_slowpath');
    const whole = fs.read(fh, 0, 100).toString();
    expect(fs.read(fh, 1, 100).toString()).toBe(whole.slice(1));
    m.runUntil(2_500_000_000);
    const later = fs.read(fh, 0, 100).toString();
    expect(Number(later)).toBeGreaterThan(Number(whole));
    // A write to a counter is accepted and ignored.
    expect(fs.write(fh, Buffer.from('0\n'))).toBe(2);
    expect(Number(fs.read(fh, 0, 100).toString())).toBe(Number(later));
    fs.release(fh);
    const reset = fs.open('qlockstat/reset_counters');
    expect(() => fs.read(reset, 0, 100)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(fs.write(reset, Buffer.from('whatever'))).toBe(8);
    fs.release(reset);
    const after = readAll(fs, readableFiles('qlockstat'));
    for (const [p, text] of Object.entries(after))
      expect(text, p).toBe(p.endsWith('pv_hash_hops') ? '0.00\n' : '0\n');
  });
});

describe('name tables keyed by the simulation enums', () => {
  it('qlockstat names every counter the simulation keeps, one file each', async () => {
    const { QSTAT_NAMES } = await import('../../../src/layout/qlockstat');
    const { Q_COUNT } = await import('../../../src/sim/qstats');
    expect(QSTAT_NAMES).toHaveLength(Q_COUNT);
    expect(new Set(QSTAT_NAMES).size).toBe(Q_COUNT);
  });
});
