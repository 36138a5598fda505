import { FsError } from '../debugfs/errors';
import type { TraceControl } from '../layout/tree';
import type { PinnedDir } from '../os/dir';
import { why } from '../os/errors';
import { OutFile, removeStaleTemps } from '../os/out-file';
import { shownPath } from '../os/shown';
import type { Machine } from '../sim/machine';
import { jsonWindow, TRACE_FOR_MAX_NS, WindowResult, WindowRunner } from './windows';

/**
 * A mount's timeline recorder, driven through `pvlockfs/trace_ns`: writing N starts a recording
 * of the next N simulated ns (EBUSY while one runs, EINVAL above 60 s), writing 0 ends the one in
 * progress; either way the file is written when the recording ends, into the `--trace-dir`
 * directory as `pvlockfs-trace-<start ns>.json` (an existing file is never replaced). The
 * directory is opened once, when the daemon starts: every recording is created relative to it.
 * A recording whose file cannot be written (a full disk) ends there: the simulation is untouched,
 * nothing half-written is kept, and `trace_status` says why in `last_error`.
 * `pvlockfs/trace_status` says what is recording and what was written last. The live driver
 * stops its steps at the recording's start and end (`nextStop`), so the window is exact.
 */
export class LiveTrace implements TraceControl {
  private readonly runner: WindowRunner;
  private toNs = -1;
  private fromNs = -1;
  private last: WindowResult | null = null;
  private lastError = '';
  private count = 0;

  constructor(
    private readonly m: Machine,
    /** The directory the recordings go into, opened once. */
    readonly dir: PinnedDir,
    private readonly maxBytes: number,
    private readonly meta: Record<string, unknown>,
    private readonly log: (line: string) => void,
  ) {
    this.runner = new WindowRunner(m, []);
    // What a daemon killed mid-recording (kill -9) left behind is removed now.
    const removed = removeStaleTemps(dir);
    if (removed > 0)
      log(
        `pvlockfs: removed ${removed} unfinished recording${removed === 1 ? '' : 's'} left in ${shownPath(dir.path)} by a daemon that was killed`,
      );
  }

  left(): number {
    return this.toNs < 0 ? 0 : Math.max(0, this.toNs - this.m.nowNs);
  }

  set(ns: number): void {
    if (ns === 0) {
      if (this.toNs >= 0) this.collect(() => this.runner.endOpen());
      return;
    }
    if (this.toNs >= 0)
      throw new FsError('EBUSY', 'a recording is in progress (write 0 to end it)');
    if (ns > TRACE_FOR_MAX_NS)
      throw new FsError('EINVAL', `trace_ns ${ns} above ${TRACE_FOR_MAX_NS}`);
    const now = this.m.nowNs;
    const open = (): OutFile =>
      OutFile.inDir(this.dir, `pvlockfs-trace-${now}ns.json`, 'trace_ns (--trace-dir)');
    const w = jsonWindow(this.m, open, now, now + ns, this.maxBytes, this.meta, true);
    try {
      this.runner.add(w);
    } catch (e) {
      this.lastError = why(e);
      this.log(`pvlockfs: ${this.lastError}`);
      throw new FsError('EIO', this.lastError);
    }
    this.fromNs = now;
    this.toNs = now + ns;
    this.lastError = '';
  }

  status(): string {
    const l = this.last;
    const lines: [string, string | number][] = [
      ['recording', this.toNs >= 0 ? 1 : 0],
      ['from_ns', this.toNs >= 0 ? this.fromNs : 0],
      ['to_ns', this.toNs >= 0 ? this.toNs : 0],
      ['dir', this.dir.path],
      ['written', this.count],
      ['last_file', l ? l.file : ''],
      ['last_from_ns', l ? l.fromNs : 0],
      ['last_to_ns', l ? l.toNs : 0],
      ['last_events', l ? l.events : 0],
      ['last_bytes', l ? l.bytes : 0],
      ['last_truncated', l && l.truncated ? 1 : 0],
      ['last_error', this.lastError],
    ];
    // Values are escaped: a directory or an error with a newline cannot forge another line.
    return lines
      .map(([k, v]) => `${k}=${typeof v === 'string' ? shownPath(v, 4096) : v}\n`)
      .join('');
  }

  /** The next time the driver must stop at (the recording's end), at most `limitNs`. */
  nextStop(limitNs: number): number {
    return this.runner.nextStop(limitNs);
  }

  /** Called after each step: ends the recording when its time is up (writes the file). */
  update(): void {
    if (this.toNs >= 0) this.collect(() => (this.runner.update(), this.runner.results));
  }

  /** A knob was written: the recording in progress marks it. */
  knob(name: string, value: bigint | null): void {
    this.runner.knob(name, value);
  }

  /** Ends a recording in progress (the daemon is stopping): its file is written. */
  finish(): void {
    if (this.toNs >= 0) this.collect(() => this.runner.endOpen());
  }

  private collect(step: () => WindowResult[]): void {
    const before = this.runner.results.length;
    try {
      step();
    } catch (e) {
      this.lastError = why(e);
      this.log(`pvlockfs: ${this.lastError}`);
      this.toNs = -1;
      return;
    }
    const done = this.runner.results.slice(before);
    if (done.length === 0) return;
    this.toNs = -1;
    const r = done[done.length - 1];
    if (r.error !== '') {
      this.lastError = `${r.error}: the recording was ended at simulated ${r.toNs} ns and nothing was kept`;
      this.log(`pvlockfs: ${this.lastError}`);
      return;
    }
    this.last = r;
    this.count += done.length;
    this.lastError = '';
    this.log(
      `pvlockfs: wrote ${shownPath(r.file)}: simulated ${r.fromNs}–${r.toNs} ns, ${r.events} events, ${r.bytes} bytes${r.truncated ? ' (cut short at the size limit)' : ''}`,
    );
  }
}
