import { parentPort } from 'node:worker_threads';
import { runOne, RunSpec } from '../../experiment/run';

// Worker thread of `pvlockfs experiment`: runs the simulations it is sent, one at a time. A run
// that throws (a broken invariant) is reported with its id, so the parent can name its seed.
parentPort?.on('message', (msg: { id: number; spec: RunSpec }) => {
  try {
    parentPort?.postMessage({ id: msg.id, result: runOne(msg.spec) });
  } catch (e) {
    parentPort?.postMessage({
      id: msg.id,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    });
  }
});
