import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/cli/options';
import { runHeadless } from '../../src/cli/run';
import { LOCKS } from '../../src/sim/config';

/**
 * Golden outputs: `run --json` (all but wall_ms) for every lock × pinning A and C × overcommit 1
 * and 3 × two seeds, 300 simulated ms each. A change that is not meant to change the model keeps
 * these files byte-identical; a deliberate model change updates them (`npm test -- -u`) in a
 * commit of its own that says why.
 */
describe('golden outputs of run --json', () => {
  const cells = LOCKS.flatMap((lock) => (['A', 'C'] as const).flatMap((pinning) => [1, 3].flatMap((k) => [20100726, 7].map((seed) => ({ lock, pinning, k, seed })))));
  it.each(['A', 'C'] as const)('pinning %s', async (pinning) => {
    const out: Record<string, unknown> = {};
    for (const c of cells.filter((x) => x.pinning === pinning)) {
      const args = ['--lock', c.lock, '--pinning', c.pinning, '--overcommit', String(c.k), '--seed', String(c.seed), '--sim-time', '300ms'];
      const r = runHeadless(parseOptions('run', args));
      delete r.wall_ms;
      out[args.join(' ')] = r;
    }
    await expect(`${JSON.stringify(out, null, 1)}\n`).toMatchFileSnapshot(`../golden/run-${pinning}.json`);
  });
});
