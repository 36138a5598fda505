import type { Progress } from '../app/progress';

export type { Progress } from '../app/progress';

/** Where progress goes: a terminal gets one line rewritten in place, a file or pipe a line now and then. */
export interface ProgressSink {
  isTTY?: boolean;
  write(s: string): unknown;
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
    `${label}: ${done}/${total} ${unit}${Number.isFinite(etaS) ? `, about ${Math.ceil(etaS)} s left` : ''}`;
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
