import type { Cpu, Task } from '../sim/task';
import type { Leave, Mark, SimTracer } from '../sim/trace';
import type { GuestLock, Vcpu } from '../sim/vcpu';

/** Several tracers on one machine (a JSON trace and an SVG window recorded in one run). */
export class TracerTee implements SimTracer {
  constructor(private readonly all: readonly SimTracer[]) {}
  switched(cpu: Cpu, prev: Task | null, next: Task | null, why: Leave): void {
    for (const t of this.all) t.switched(cpu, prev, next, why);
  }
  queued(cpu: Cpu): void {
    for (const t of this.all) t.queued(cpu);
  }
  vcpu(v: Vcpu): void {
    for (const t of this.all) t.vcpu(v);
  }
  held(lock: GuestLock, v: number, granted: boolean): void {
    for (const t of this.all) t.held(lock, v, granted);
  }
  released(lock: GuestLock, v: number): void {
    for (const t of this.all) t.released(lock, v);
  }
  waiters(lock: GuestLock): void {
    for (const t of this.all) t.waiters(lock);
  }
  mark(m: Mark, v: Vcpu, other: number): void {
    for (const t of this.all) t.mark(m, v, other);
  }
}
