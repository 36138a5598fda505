import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../../src/debugfs/errors';
import { Faults, parseErrno } from '../../../src/faults/faults';
import { compileGlobs } from '../../../src/faults/glob';

function faults(): { f: Faults; clock: { ns: number } } {
  const clock = { ns: 0 };
  return { f: new Faults(42, () => clock.ns), clock };
}

describe('globs over paths', () => {
  it('* stays in a directory, ** crosses them, ? is one character; none matches all', () => {
    const m = compileGlobs('kvm/spinlocks/histo_* kvm/**/taken');
    expect(m('kvm/spinlocks/histo_total')).toBe(true);
    expect(m('kvm/spinlocks/timeout')).toBe(false);
    expect(m('kvm/spinlocks/taken')).toBe(true);
    expect(m('kvm/spinlocks/taken_slow')).toBe(false);
    expect(compileGlobs('*')('kvm/spinlocks/taken')).toBe(false);
    expect(compileGlobs('kvm/spinlocks/take?')('kvm/spinlocks/taken')).toBe(true);
    expect(compileGlobs('')('anything/at/all')).toBe(true);
    expect(compileGlobs('/kvm/spinlocks/taken')('kvm/spinlocks/taken')).toBe(true);
    expect(compileGlobs('a.b')('axb')).toBe(false);
  });
});

describe("a mount's faults", () => {
  it('nothing armed: every operation goes on', () => {
    const { f } = faults();
    expect(f.decide('read', '/kvm/spinlocks/taken', 4096, 1)).toBeNull();
  });

  it('fail_read with files: only the matching file fails, with the chosen errno; counted and logged', () => {
    const { f, clock } = faults();
    const c = f.fail.read;
    Object.assign(c.attr, { probability: 100, times: -1 });
    c.errno = ERRNO.EAGAIN;
    Faults.select(c, 'kvm/spinlocks/histo_total');
    clock.ns = 5000;
    expect(f.decide('read', '/kvm/spinlocks/taken', 10, 1)).toBeNull();
    expect(f.decide('read', '/kvm/spinlocks/histo_total', 10, 1)).toEqual({ errno: ERRNO.EAGAIN });
    expect(f.decide('open', '/kvm/spinlocks/histo_total', 0, 1)).toBeNull();
    expect(f.injectedText()).toBe(
      'fail_open 0\nfail_read 1\nfail_write 0\nfail_getattr 0\nfail_readdir 0\nstall 0\n',
    );
    expect(f.logText()).toBe('5000 read /kvm/spinlocks/histo_total EAGAIN\n');
  });

  it('the root and the control directory are never faulted', () => {
    const { f } = faults();
    Object.assign(f.fail.getattr.attr, { probability: 100, times: -1 });
    expect(f.decide('getattr', '/', 0, 1)).toBeNull();
    expect(f.decide('getattr', '/pvlockfs/fault/fail_read/times', 0, 1)).toBeNull();
    expect(f.decide('getattr', '/g1/pvlockfs/running', 0, 1)).toBeNull();
    expect(f.decide('getattr', '/kvm', 0, 1)).toEqual({ errno: ERRNO.EIO });
  });

  it('a stall of simulated ns holds the operation until the clock passes it', async () => {
    const { f, clock } = faults();
    Object.assign(f.stall.attr, { probability: 100, times: 1 });
    f.stall.ns = 1000;
    clock.ns = 500;
    const d = f.decide('read', '/kvm/spinlocks/taken', 10, 1);
    if (d === null || !('stall' in d)) throw new Error('expected a stall');
    let done: number | null | 'no' = 'no';
    void d.stall.then((v) => (done = v));
    clock.ns = 1499;
    f.clockAdvanced();
    await Promise.resolve();
    expect([done, f.stalled]).toEqual(['no', 1]);
    clock.ns = 1500;
    f.clockAdvanced();
    await d.stall;
    expect([done, f.stalled]).toEqual([null, 0]);
    // times was 1: the next read goes on.
    expect(f.decide('read', '/kvm/spinlocks/taken', 10, 1)).toBeNull();
  });

  it('a hang is held until released; a stalled call that fail_OP also picks fails after it', async () => {
    const { f } = faults();
    Object.assign(f.stall.attr, { probability: 100, times: -1 });
    f.stall.hang = true;
    Object.assign(f.fail.read.attr, { probability: 100, times: 1 });
    const d = f.decide('read', '/kvm/spinlocks/taken', 10, 1);
    if (d === null || !('stall' in d)) throw new Error('expected a stall');
    f.clockAdvanced();
    expect(f.stalled).toBe(1);
    expect(f.releaseAll()).toBe(1);
    expect(await d.stall).toBe(ERRNO.EIO);
  });

  it('errno as a name or a number; anything else is EINVAL', () => {
    expect(parseErrno('EAGAIN\n')).toBe(11);
    expect(parseErrno('107')).toBe(107);
    expect(() => parseErrno('EWHATEVER')).toThrow(/EINVAL/);
    expect(() => parseErrno('0')).toThrow(/EINVAL/);
    expect(() => parseErrno('4096')).toThrow(/EINVAL/);
  });
});
