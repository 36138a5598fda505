import { parentPort } from 'node:worker_threads';
import { runOne, RunSpec } from '../sim/experiment';

// Worker thread of `pvlockfs experiment`: runs the simulations it is sent, one at a time.
parentPort?.on('message', (msg: { id: number; spec: RunSpec }) => {
  parentPort?.postMessage({ id: msg.id, result: runOne(msg.spec) });
});
