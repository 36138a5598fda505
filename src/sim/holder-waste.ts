import { Cat } from './instruments';
import { TaskState } from './task';
import type { LockTable, Vcpu } from './vcpu';

/**
 * The preempted-holder waste of one guest: the time its vCPUs spin, or sit in the yield
 * hypercall, for a lock whose holder (or the waiter the lock was handed to) is not on a pCPU —
 * what lock-holder preemption costs, measured directly. Each vCPU's stint is filed when its
 * category changes, and its waiters' when a holder is preempted, resumed or replaced by one that
 * differs in that; reading the total changes nothing.
 */
export class HolderWaste {
  constructor(
    private readonly vcpus: readonly Vcpu[],
    private readonly table: LockTable,
    private readonly clock: { readonly now: number },
  ) {
    table.onHolder = (i, before) => {
      // Only a change in whether the holder is preempted changes the waiters' waste (a hand-over
      // between two running vCPUs, the common case, does not), and only if anyone waits.
      if (table.waiting(i) > 0 && this.offCpu(before) !== this.offCpu(table.holder(i)))
        this.refile(i);
    };
  }

  /**
   * Files `v`'s waste up to `now` and decides whether its time from now on is waste; called at
   * every change of its category that could matter (a vCPU that neither waits nor was counting
   * has nothing to file).
   */
  file(v: Vcpu, now: number): void {
    if (v.lhpKind >= 0) v.lhpNs[v.lhpKind] += now - v.lhpSinceNs;
    v.lhpSinceNs = now;
    v.lhpKind = -1;
    if ((v.cat !== Cat.Spin && v.cat !== Cat.Yield) || v.lock < 0) return;
    const h = this.table.holder(v.lock);
    if (h < 0 || h === v.index || this.vcpus[h].task.state === TaskState.Running) return;
    v.lhpKind = v.cat === Cat.Spin ? 0 : 1;
  }

  /** `v` left or got a pCPU: if it holds a lock, its waiters' waste is re-filed. */
  moved(v: Vcpu): void {
    if (v.lock >= 0 && this.table.holder(v.lock) === v.index) this.refile(v.lock);
  }

  /** The vCPUs' spinning while a lock's holder was preempted, up to now (summed). */
  spinNs(): number {
    const now = this.clock.now;
    let ns = 0;
    for (const v of this.vcpus) ns += v.lhpNs[0] + (v.lhpKind === 0 ? now - v.lhpSinceNs : 0);
    return ns;
  }

  /** Whether vCPU `v` (-1: nobody) is one the host has taken off its pCPU. */
  private offCpu(v: number): boolean {
    return v >= 0 && this.vcpus[v].task.state !== TaskState.Running;
  }

  /** Re-files the waste of lock `i`'s waiters. */
  private refile(i: number): void {
    if (this.table.waiting(i) === 0) return;
    const now = this.clock.now;
    for (const w of this.vcpus) if (w.lock === i) this.file(w, now);
  }
}
