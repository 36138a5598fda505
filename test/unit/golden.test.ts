import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/cli/options';
import { runHeadless } from '../../src/app/headless';
import { runPlan } from '../../src/app/plan';
import type { Options } from '../../src/cli/options';

/** `run --json` of the options, as a run prints it. */
function headless(o: Options): Record<string, unknown> {
  return runHeadless(runPlan(o.sim, o.layout, o.guests), o).result;
}
import type { LockAlgorithm } from '../../src/sim/config';

/** The locks the goldens were first recorded with; a lock added later gets a file of its own. */
const RECORDED: readonly LockAlgorithm[] = [
  'ticket',
  'pv-yield',
  'pv-ticket',
  'directed-yield',
  'xen-block',
  'pv-qspinlock',
];

/** `run --json` of every cell, without wall_ms, keyed by the command line. */
function runs(
  cells: { lock: LockAlgorithm; pinning: 'A' | 'C'; k: number; seed: number }[],
): string {
  const out: Record<string, unknown> = {};
  for (const c of cells) {
    const args = [
      '--lock',
      c.lock,
      '--pinning',
      c.pinning,
      '--overcommit',
      String(c.k),
      '--seed',
      String(c.seed),
      '--sim-time',
      '300ms',
    ];
    const r = headless(parseOptions('run', args));
    delete r.wall_ms;
    out[args.join(' ')] = r;
  }
  return `${JSON.stringify(out, null, 1)}\n`;
}

const cellsOf = (locks: readonly LockAlgorithm[]) =>
  locks.flatMap((lock) =>
    (['A', 'C'] as const).flatMap((pinning) =>
      [1, 3].flatMap((k) => [20100726, 7].map((seed) => ({ lock, pinning, k, seed }))),
    ),
  );

/**
 * Golden outputs: `run --json` (all but wall_ms) for every lock × pinning A and C × overcommit 1
 * and 3 × two seeds, 300 simulated ms each. A change that is not meant to change the model keeps
 * these files byte-identical; a deliberate model change updates them (`npm test -- -u`) in a
 * commit of its own that says why.
 */
describe('golden outputs of run --json', () => {
  it.each(['A', 'C'] as const)('pinning %s', async (pinning) => {
    await expect(runs(cellsOf(RECORDED).filter((x) => x.pinning === pinning))).toMatchFileSnapshot(
      `../golden/run-${pinning}.json`,
    );
  });

  it('tas (added after the first recording)', async () => {
    await expect(runs(cellsOf(['tas']))).toMatchFileSnapshot('../golden/run-tas.json');
  });

  it('pv-hybrid (added after the first recording)', async () => {
    await expect(runs(cellsOf(['pv-hybrid']))).toMatchFileSnapshot('../golden/run-pv-hybrid.json');
  });
});
