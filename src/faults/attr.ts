import { Rng } from '../sim/rng';

/**
 * One capability's fault attributes, with the kernel's meaning (lib/fault-inject.c,
 * Documentation/fault-injection/fault-injection.rst) and defaults: `probability` 0 (off),
 * `interval` 1, `times` 1 (−1: no limit), `space` 0, `verbose` 2, `task-filter` N. `failNth` is
 * the kernel's per-task `fail-nth`, kept here per capability: the Nth matching call fails, and it
 * reads 0 once it has. `tasks` stands for `/proc/PID/make-it-fail`: the pids `task-filter` lets
 * fail.
 */
export class FaultAttr {
  probability = 0;
  interval = 1;
  times = 1;
  space = 0;
  verbose = 2;
  taskFilter = false;
  failNth = 0;
  readonly tasks = new Set<number>();
  /** Eligible calls counted for `interval` (the kernel's `count`). */
  private count = 0;
  private rng: Rng;

  constructor(
    /** The capability's name (`fail_read`, …), as the log line says it. */
    readonly name: string,
    private seedValue: number,
  ) {
    this.rng = new Rng(seedValue, name);
  }

  /** The seed of the capability's random stream; setting it restarts the stream. */
  get seed(): number {
    return this.seedValue;
  }

  set seed(v: number) {
    this.seedValue = v;
    this.rng = new Rng(v, this.name);
  }

  /** Whether any call can fail: off while probability is 0 and no `fail-nth` is counting. */
  get live(): boolean {
    return this.probability > 0 || this.failNth > 0;
  }

  /**
   * Whether this call fails, in `should_fail_ex()`'s order: (1) `fail-nth` counts down and, on
   * reaching 0, fails with nothing else checked; (2) probability 0 never fails; (3) the task
   * filter; (4) `times` spent; (5) `space` absorbs the call's size while it lasts; (6) only every
   * `interval`-th call that got here goes on; (7) a draw below `probability` percent fails. A
   * failure spends one of `times` (unless −1). `size` is the call's bytes, `pid` its caller's
   * (0 when unknown).
   */
  shouldFail(size: number, pid: number): boolean {
    if (this.failNth > 0) {
      this.failNth -= 1;
      if (this.failNth === 0) return this.failed();
      return false;
    }
    if (this.probability === 0) return false;
    if (this.taskFilter && !this.tasks.has(pid)) return false;
    if (this.times === 0) return false;
    if (this.space > size) {
      this.space -= size;
      return false;
    }
    if (this.interval > 1) {
      this.count += 1;
      if (this.count % this.interval !== 0) return false;
    }
    // get_random_u32_below(100): a uniform integer in [0, 100).
    if (this.probability <= this.rng.int(0, 99)) return false;
    return this.failed();
  }

  /** The kernel's two log lines for the last failure (`fail_dump`, before `times` is spent). */
  lastLog = '';

  private failed(): true {
    this.lastLog = `FAULT_INJECTION: forcing a failure.\nname ${this.name}, interval ${this.interval}, probability ${this.probability}, space ${this.space}, times ${this.times}`;
    // atomic_dec_not_zero, unless unlimited.
    if (this.times !== -1 && this.times !== 0) this.times -= 1;
    return true;
  }
}
