/** How a long piece of work reports how far it is. */
export interface Progress {
  /** `done` of `total` units (runs, simulated seconds) are finished; `etaS` is the estimate of what is left. */
  update(done: number, total: number, etaS: number): void;
  /** Ends the progress display (a newline on a terminal). */
  end(): void;
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
