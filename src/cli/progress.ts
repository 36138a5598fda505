/** Where progress goes: a terminal gets one line rewritten in place, a file or pipe a line now and then. */
export interface ProgressSink {
  isTTY?: boolean;
  write(s: string): unknown;
}

export interface Progress {
  /** `done` of `total` units (runs, simulated seconds) are finished; `etaS` is the estimate of what is left. */
  update(done: number, total: number, etaS: number): void;
  /** Ends the progress display (a newline on a terminal). */
  end(): void;
}

/**
 * Progress of a batch of runs on stderr. On a terminal the line is rewritten at every update; on
 * anything else (a CI log, `2> file`) a whole line is written for the first update, then at most
 * once per `everyMs`, and for the last one, so a log stays readable.
 */
export function progressReporter(
  label: string,
  sink: ProgressSink,
  everyMs = 5000,
  nowMs: () => number = () => performance.now(),
  unit = 'runs',
): Progress {
  let lastMs = -Infinity;
  let open = false;
  const text = (done: number, total: number, etaS: number): string =>
    `${label}: ${done}/${total} ${unit}, about ${Math.ceil(etaS)} s left`;
  return {
    update(done, total, etaS) {
      if (sink.isTTY) {
        sink.write(`\r${text(done, total, etaS)}   `);
        open = true;
        return;
      }
      const t = nowMs();
      if (done < total && t - lastMs < everyMs) return;
      lastMs = t;
      sink.write(`${text(done, total, etaS)}\n`);
    },
    end() {
      if (open) sink.write('\n');
      open = false;
    },
  };
}

/** Wall time a headless run may take before it starts reporting progress. */
const QUIET_MS = 2000;

/**
 * Reports a headless run's progress between its steps (`doneNs` of `totalNs` simulated, started
 * at `startMs` of wall time), once it has taken more than 2 s; the last step reports nothing.
 */
export function stepProgress(
  progress: Progress | undefined,
  doneNs: number,
  totalNs: number,
  startMs: number,
  nowMs: number,
): void {
  const elapsedMs = nowMs - startMs;
  if (progress && elapsedMs > QUIET_MS && doneNs < totalNs && doneNs > 0)
    progress.update(
      Math.floor(doneNs / 1e9),
      Math.ceil(totalNs / 1e9),
      ((totalNs - doneNs) / doneNs) * (elapsedMs / 1000),
    );
}
