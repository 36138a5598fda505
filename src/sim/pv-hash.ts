import { fail } from './assert';

/**
 * The pv qspinlock's lock → halted-head table (`pv_hash` / `pv_unhash`,
 * kernel/locking/qspinlock_paravirt.h): open addressing with linear probing from the lock's
 * cache-line-aligned slot, so the number of probes depends on which other locks are hashed.
 */
export class PvHashTable {
  /** Lock index per entry, -1 empty. */
  private readonly table: Int32Array;
  private readonly bits: number;

  /** A table of `entries` slots (at least one per vCPU: validation checks it). */
  constructor(entries: number) {
    this.table = new Int32Array(entries).fill(-1);
    this.bits = Math.max(2, Math.floor(Math.log2(entries)));
  }

  /** `pv_hash`: puts `lockIndex` in the first free slot from its hash; returns [slot, probes]. */
  insert(lockIndex: number): [slot: number, probes: number] {
    const n = this.table.length;
    let slot = (Math.imul(lockIndex + 1, 0x61c88647) >>> (32 - this.bits)) & ~3;
    for (let hops = 1; hops <= n; hops++, slot = (slot + 1) % n) {
      if (this.table[slot] >= 0) continue;
      this.table[slot] = lockIndex;
      return [slot, hops];
    }
    return fail('pv-qspinlock: hash table full');
  }

  /** `pv_unhash`: frees `slot`. */
  remove(slot: number): void {
    this.table[slot] = -1;
  }
}
