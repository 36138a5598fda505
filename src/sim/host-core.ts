import { fail } from './assert';
import { leftmost, removeFrom } from './balance';
import type { SimConfig } from './config';
import { doubleFields } from './doubles';
import { reclaim } from './host-groups';
import type { EventQueue } from './queue';
import { Cpu, Ev, HostListener, NICE_0_LOAD, Task, TaskKind, TaskState } from './task';
import type { Leave, SimTracer } from './trace';

/** A scheduling group (several guests: one per VM, and one for the hogs). */
export interface Group {
  shares: number;
  tasks: Task[];
}

/** Solution (b)'s counts: preemptions deferred, deferrals that ran out, yields on release. */
export interface HintCounts {
  granted: number;
  expired: number;
  yields: number;
}

/**
 * The scheduler's state and its private operations (`update_curr`, the re-pick, the switch): what
 * the host's own files (host, host-balance, host-yield, host-groups, host-hints, host-tasks) work
 * on, and the rest of the simulation does not see — only `Host`, its public face, is exported
 * beyond them. Every switch takes the reason the task leaving its pCPU leaves for, from whoever
 * asks for it. Plain fields, so the hot paths read them directly.
 */
export class SchedCore {
  readonly cpus: Cpu[] = [];
  /** Simulated time now, in ns (only `Host.advanceTo` moves it). */
  now = 0;
  /** Who is told of every switch (a timeline's recorder), or null. */
  tracer: SimTracer | null = null;
  /**
   * Group scheduling (several guests, 2.6.35's CFS groups as libvirt makes them: one per VM, and
   * one for the hogs): each group's `cpu.shares` and its tasks; null with one guest, where every
   * task is a nice-0 task on a flat queue exactly as before.
   */
  groups: Group[] | null = null;
  readonly hints: HintCounts = { granted: 0, expired: 0, yields: 0 };
  /** Directed yields honoured. */
  boosts = 0;

  constructor(
    readonly cfg: SimConfig,
    readonly queue: EventQueue,
    readonly listener: HostListener,
  ) {
    doubleFields(this, ['now']);
  }

  /** A directed yield was honoured. */
  honoured(): void {
    this.boosts += 1;
  }

  /** Slice for a pCPU with `nr` tasks: period / nr, period = latency or min_gran × nr. */
  sliceNs(nr: number): number {
    const n = Math.max(1, nr);
    const nrLatency = Math.max(1, Math.floor(this.cfg.latencyNs / this.cfg.minGranularityNs));
    const period = n <= nrLatency ? this.cfg.latencyNs : this.cfg.minGranularityNs * n;
    return Math.floor(period / n);
  }

  /** Mirrors `update_curr`: charges the running task's time since its last update and advances min_vruntime. */
  updateCurr(c: Cpu): void {
    const curr = c.curr;
    if (curr) {
      const ran = this.now - curr.lastUpdateNs;
      // calc_delta_fair: a group task's virtual time runs faster the smaller its weight.
      curr.vruntime += this.groups === null ? ran : (ran * NICE_0_LOAD) / curr.weight;
      curr.lastUpdateNs = this.now;
    }
    let v = curr ? curr.vruntime : Infinity;
    const left = leftmost(c.rq);
    if (left) v = Math.min(v, left.vruntime);
    if (v !== Infinity) c.minVruntime = Math.max(c.minVruntime, v);
  }

  /** Re-picks the task to run on `c`: puts the running task back (leaving for `why`) and picks the leftmost; the old task loses vruntime ties. */
  resched(c: Cpu, why: Leave): void {
    this.updateCurr(c);
    const curr = c.curr;
    const left = leftmost(c.rq);
    if (curr === null || curr.state !== TaskState.Running) {
      this.switchTo(c, left, why);
      return;
    }
    if (left === null || curr.vruntime < left.vruntime) {
      curr.execStartNs = this.now;
      return;
    }
    curr.state = TaskState.Runnable;
    c.rq.push(curr);
    this.switchTo(c, left, why);
  }

  /** Makes `next` the running task of `c`; the task running there leaves for `why`. */
  switchTo(c: Cpu, next: Task | null, why: Leave): void {
    const prev = c.curr;
    if (prev === next) return;
    if (this.tracer !== null) this.tracer.switched(c, prev, next, why);
    if (prev) this.stopRunning(prev);
    c.curr = next;
    if (this.tracer !== null) this.tracer.queued(c);
    if (next === null) return;
    if (next.state !== TaskState.Runnable) notRunnable(next);
    removeFrom(c.rq, next);
    if (next.yieldBonusNs > 0) reclaim(this, c, next);
    next.state = TaskState.Running;
    next.cpu = c.id;
    next.execStartNs = this.now;
    next.lastUpdateNs = this.now;
    next.onCpuSinceNs = this.now;
    const switchCost =
      next.kind === TaskKind.Vcpu && c.lastTaskId !== next.id ? this.cfg.ctxSwitchNs : 0;
    next.resumeAtNs = this.now + switchCost;
    c.lastTaskId = next.id;
    if (next.timerArmed) {
      next.timerVersion += 1;
      next.timerEndNs = next.resumeAtNs + next.timerRemainingNs;
      this.queue.push(next.timerEndNs, Ev.Timer, next.id, next.timerVersion);
    }
    this.listener.dispatched(next, this.now);
  }

  private stopRunning(t: Task): void {
    t.deferUntilNs = -1;
    t.lastRanNs = this.now;
    t.onCpuTotalNs += this.now - t.onCpuSinceNs;
    if (t.timerArmed) {
      t.timerRemainingNs = Math.max(0, t.timerEndNs - Math.max(this.now, t.resumeAtNs));
      t.timerVersion += 1;
    }
    this.listener.descheduled(t, this.now);
  }
}

// The hot path's failure builds its message out of line (see queue.ts).
function notRunnable(next: Task): never {
  fail(`task ${next.id} switched to while not runnable (state ${next.state})`);
}
