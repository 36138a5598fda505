import type { Guest } from './guest';
import { Mark } from './trace';
import { TaskState } from './task';
import { Act, Vcpu } from './vcpu';

/**
 * What KVM on the host does for a vCPU, apart from the scheduler: pause-loop exits and the
 * yield hypercalls (`kvm_vcpu_on_spin`, arch/x86/kvm and virt/kvm/kvm_main.c). Guest code — the
 * lock algorithms — calls in here the way a guest traps into the host; it never picks a host
 * task itself.
 */
export class Kvm {
  /** The vCPU `kvm_vcpu_on_spin` boosted last (its round-robin starts after it). */
  private lastBoosted = -1;

  /** Pause-loop exits of ticket-lock spinners. */
  pleExits = 0;
  /** directed-yield: yields aimed at a preempted sibling (the host counts those it honoured). */
  directedYields = 0;

  constructor(private readonly g: Guest) {}

  /**
   * `kvm_vcpu_on_spin`'s candidate (2.6.39): round-robin after the last boosted vCPU, the first
   * sibling that is preempted (runnable, neither running nor halted); null when there is none.
   */
  yieldCandidate(v: Vcpu): Vcpu | null {
    const vcpus = this.g.vcpus;
    const n = vcpus.length;
    for (let k = 1; k <= n; k++) {
      const c = vcpus[(this.lastBoosted + k + n) % n];
      if (c === v || c.task.state !== TaskState.Runnable) continue;
      this.lastBoosted = c.index;
      return c;
    }
    return null;
  }

  /**
   * A kick of a halted or blocked vCPU (`KVM_HC_KICK_CPU`, or Xen's event channel): the host wakes
   * its thread if it sleeps (with sleeper credit); a vCPU already awake is not touched.
   */
  kick(v: Vcpu): void {
    if (v.task.state === TaskState.Sleeping) this.g.host.wake(v.task);
  }

  /**
   * The host takes vCPU `v` out of guest mode for `ns` (an exit it did not ask for: an IPI's
   * kick and EOI, a remote TLB flush): its guest code resumes that much later and its
   * running-time timer moves with it. A vCPU that is not running is not in guest mode: nothing.
   */
  forceExit(v: Vcpu, ns: number): void {
    const t = v.task;
    if (t.state !== TaskState.Running || ns <= 0) return;
    v.overheadNs += ns;
    t.resumeAtNs = Math.max(this.g.now, t.resumeAtNs) + ns;
    if (t.timerArmed) this.g.host.armTimer(t, t.timerEndNs + ns - t.resumeAtNs);
  }

  /** `KVM_HC_YIELD` as 2.6.35 runs it: the host's plain `yield()`. Returns whether it switched. */
  plainYield(v: Vcpu): boolean {
    return this.g.host.yield(v.task);
  }

  /**
   * The yield hypercall with 2.6.39's directed yield: `yield_to` the candidate (honoured only
   * within the wakeup granularity of its queue's leftmost task), or a plain yield when there is
   * none. Returns whether the vCPU was switched out.
   */
  directedYield(v: Vcpu): boolean {
    const c = this.yieldCandidate(v);
    if (c === null) return this.g.host.yield(v.task);
    this.directedYields += 1;
    this.g.note(Mark.DirectedYield, v.index, c.index);
    return this.g.host.yieldTo(v.task, c.task);
  }

  /**
   * A pause-loop exit of a spinning vCPU: the host sleeps it 100 µs (2.6.35's `kvm_vcpu_on_spin`)
   * or yields to a preempted sibling (2.6.39), after which it spins on for another PLE window.
   * Returns true when the vCPU is still running and simply goes on spinning.
   */
  pauseLoopExit(v: Vcpu): boolean {
    const g = this.g;
    this.pleExits += 1;
    g.note(Mark.PleExit, v.index);
    if (g.cfg.ple === 'sleep') {
      g.setAct(v, Act.PleSleep);
      g.host.sleep(v.task);
      g.host.scheduleWake(v.task, g.now + g.cfg.pleSleepNs);
      return false;
    }
    const c = this.yieldCandidate(v);
    const switched = c === null ? g.host.yield(v.task) : g.host.yieldTo(v.task, c.task);
    if (c !== null) {
      this.directedYields += 1;
      g.note(Mark.DirectedYield, v.index, c.index);
    }
    // Still running (nothing better to run): the pause loop goes on and exits again.
    if (!switched) return true;
    g.host.armTimer(v.task, g.cfg.pleWindowNs);
    return false;
  }
}
