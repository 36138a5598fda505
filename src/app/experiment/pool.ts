import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { RunResult, RunSpec } from '../../experiment/run';

/**
 * The `pvlockfs run` command line that repeats one run of a matrix alone: the same configuration,
 * so the same events (a failure names it, so that its seed is never lost).
 */
export function reproduceCommand(spec: RunSpec): string {
  const params = Object.entries(spec.params)
    .map(([k, v]) => ` --param ${k}=${String(v)}`)
    .join('');
  return `pvlockfs run --pinning ${spec.scenario} --overcommit ${spec.overcommit} --lock ${spec.lock} --seed ${spec.seed} --work ${spec.workNs}ns --sim-time ${spec.capNs}ns${params} --json`;
}

/**
 * Runs every spec on a pool of worker threads; results come back in spec order. `progress` gets
 * the runs done and an estimate of the seconds left (NaN until there is one).
 */
export async function runPool(
  specs: RunSpec[],
  jobs: number,
  progress: (done: number, total: number, etaS: number) => void,
): Promise<RunResult[]> {
  const results: RunResult[] = new Array(specs.length);
  const start = performance.now();
  let next = 0;
  let done = 0;
  const workers = Array.from(
    { length: Math.max(1, Math.min(jobs, specs.length)) },
    () => new Worker(join(__dirname, 'worker.js')),
  );
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              if (next >= specs.length) return resolve();
              const id = next++;
              w.postMessage({ id, spec: specs[id] });
            };
            w.on('message', (m: { id: number; result?: RunResult; error?: string }) => {
              if (m.error !== undefined)
                return reject(
                  new Error(
                    `run ${m.id + 1} of ${specs.length} failed: ${m.error}\nrepeat it alone with: ${reproduceCommand(specs[m.id])}`,
                  ),
                );
              results[m.id] = m.result as RunResult;
              done += 1;
              // No estimate until every worker has finished a run: the first runs carry each
              // worker's start-up (loading, compiling), and while the others are still running
              // one finished run says little about the rate (it overestimated up to 8×).
              const elapsed = (performance.now() - start) / 1000;
              const eta =
                done >= workers.length ? (elapsed / done) * (specs.length - done) : Number.NaN;
              progress(done, specs.length, eta);
              feed();
            });
            w.on('error', reject);
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
