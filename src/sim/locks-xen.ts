import { fail } from './assert';
import type { Guest } from './guest';
import { Mark } from './trace';
import { PvYieldLock } from './locks';
import { Histo, SlowCount } from './stats';
import { Act, GuestLock, Vcpu } from './vcpu';
import { xchgLatencyNs } from './handoff';

/**
 * Xen's 2.6.35 pv spinlock (arch/x86/xen/spinlock.c), the template the RFC copied: the same
 * byte lock, countdown and statistics, but the slow path blocks instead of yielding. A vCPU whose
 * countdown ran out announces the lock as its "lock of interest" (`spinners` + 1), clears its
 * event channel, tries the lock once more (`taken_slow_pickup` when that wins) and otherwise
 * blocks in `xen_poll_irq` — it sleeps on the host. An unlock that sees spinners counts
 * `released_slow` and kicks the lowest-numbered vCPU announced on the lock
 * (`released_slow_kicked`); the kicked vCPU wakes with sleeper credit, leaves the slow path and
 * spins again, racing with whoever runs.
 *
 * Acquisitions made by `spin_lock_irqsave` with interrupts on (`irqsaveShare` of them) re-enable
 * interrupts while blocked and count `taken_slow_irqenable`. The model has no guest interrupts,
 * so nothing nests a second lock inside a slow path (`taken_slow_nested`) and nothing but a kick
 * ends a poll (`taken_slow_spurious`): both stay 0, as they would on a guest whose interrupt
 * handlers take no contended spinlock.
 */
export class XenBlockLock extends PvYieldLock {
  /** Its release also looks at the blocked list: always called. */
  override readonly idleWhenUncontended = false;

  /** Per vCPU: its event channel is pending (a kick arrived since the slow path cleared it). */
  private readonly kickPending: Uint8Array;
  /** Per lock: the vCPUs inside the slow path on it (their `lock_spinners` points here), by index. */
  private readonly blocked: number[][];

  constructor(g: Guest) {
    super(g);
    this.kickPending = new Uint8Array(g.cfg.vcpus);
    this.blocked = g.locks.map(() => []);
  }

  /** Enters `xen_spin_lock_slow` (taken_slow was just counted). */
  protected override slowPath(v: Vcpu): void {
    const g = this.g;
    const lock = g.locks[v.lock];
    const at = this.blocked[lock.index].findIndex((i) => i > v.index);
    this.blocked[lock.index].splice(at < 0 ? this.blocked[lock.index].length : at, 0, v.index);
    if (g.rng.uniform() < g.cfg.irqsaveShare) g.stats.addSlowCount(SlowCount.IrqEnable);
    this.kickPending[v.index] = 0;
    if (lock.holder < 0) {
      // "Check again": the lock became free while we were announcing ourselves.
      g.stats.addSlowCount(SlowCount.Pickup);
      this.leave(v, lock);
      this.win(v, lock, xchgLatencyNs(g, v), false);
      return;
    }
    g.setAct(v, Act.XenPolled);
    g.host.sleep(v.task);
  }

  /** A blocked vCPU runs again: its poll returned because a kick made the event pending. */
  override dispatched(v: Vcpu): void {
    if (v.act !== Act.XenPolled) {
      super.dispatched(v);
      return;
    }
    if (this.kickPending[v.index] === 0) fail(`vCPU ${v.index} left its poll without a kick`);
    this.kickPending[v.index] = 0;
    this.leave(v, this.g.locks[v.lock]);
    this.attempt(v);
  }

  override timer(v: Vcpu): void {
    if (v.act === Act.XenPolled) fail(`vCPU ${v.index} had a timer while blocked`);
    super.timer(v);
  }

  /** Running spinners race for the byte; then, if anyone is in the slow path, kick the first. */
  override released(lock: GuestLock): void {
    super.released(lock);
    if (this.blocked[lock.index].length === 0) return;
    const g = this.g;
    g.stats.addSlowCount(SlowCount.Released);
    g.stats.addSlowCount(SlowCount.Kicked);
    const w = g.vcpus[this.blocked[lock.index][0]];
    this.kickPending[w.index] = 1;
    this.counts.kicks += 1;
    g.note(Mark.Kick, w.index);
    g.kvm.kick(w);
  }

  /** `unspinning_lock` and the blocked-time sample. */
  private leave(v: Vcpu, lock: GuestLock): void {
    const i = this.blocked[lock.index].indexOf(v.index);
    if (i < 0) fail(`vCPU ${v.index} leaves a slow path it is not in`);
    this.blocked[lock.index].splice(i, 1);
    this.g.stats.addSample(Histo.Blocked, this.g.now - v.startSlowNs);
  }
}
