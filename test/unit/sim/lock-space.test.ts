import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/sim/config';
import { LockSpace } from '../../../src/sim/lock-space';

describe('LockSpace: the one numbering of a guest’s locks', () => {
  it('shared locks first, then one local per vCPU, then the VFS locks when on', () => {
    const cfg = { ...defaultConfig(), locks: 10, vcpus: 4 };
    const off = new LockSpace(cfg);
    expect([off.count, off.local(0), off.local(3)]).toEqual([14, 10, 13]);
    expect([off.isShared(9), off.isShared(10), off.isVfs(13), off.isVfs(14)]).toEqual([
      true,
      false,
      false,
      false,
    ]);
    expect([off.localOwner(9), off.localOwner(10), off.localOwner(13), off.localOwner(14)]).toEqual(
      [-1, 0, 3, -1],
    );
    const on = new LockSpace({ ...cfg, vfsLocks: true });
    expect([on.count, on.firstVfs, on.isVfs(14), on.isVfs(17), on.localOwner(14)]).toEqual([
      18,
      14,
      true,
      true,
      -1,
    ]);
  });
});
