import { doubleFields } from './doubles';

/**
 * A guest's job: the work its vCPUs have done towards it, how many times it completed and how
 * long each took, and whether it is over (a job that does not loop ends at its first completion).
 */
export class Job {
  /** Work done towards the current completion, ns of guest running time. */
  doneNs = 0;
  /** When the current completion began. */
  startNs = 0;
  completed = 0;
  /** How long each completion took (the first 10,000). */
  readonly timesNs: number[] = [];
  finished = false;

  constructor(
    /** The work one completion takes. */
    readonly workNs: number,
    /** Whether the job starts again when it completes. */
    readonly loop: boolean,
  ) {
    doubleFields(this, ['doneNs', 'startNs']);
  }

  /** `ns` more work done at `now`. */
  add(ns: number, now: number): void {
    this.doneNs += ns;
    if (this.doneNs < this.workNs) return;
    this.completed += 1;
    if (this.timesNs.length < 10_000) this.timesNs.push(now - this.startNs);
    if (!this.loop) this.finished = true;
    this.doneNs -= this.workNs;
    this.startNs = now;
  }

  /** All the work done so far. */
  get totalNs(): number {
    return this.completed * this.workNs + this.doneNs;
  }
}
