import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../../src/cli/options';
import { runHeadless } from '../../../src/app/headless';
import { runPlan } from '../../../src/app/plan';
import type { Options } from '../../../src/cli/options';

/** `run --json` of the options, as a run prints it. */
function headless(o: Options): Record<string, unknown> {
  return runHeadless(runPlan(o.sim, o.layout, o.guests), o).result;
}
import { Machine } from '../../../src/sim/machine';
import { summarize } from '../../../src/sim/report';

describe('the headless run', () => {
  // runHeadless advances in one-simulated-second steps to report progress; the steps must not
  // change a single event.
  it.each([
    ['3.5 s, B-2x, pv-yield', ['--sim-time', '3500ms']],
    [
      'a job of 1 s of work, A-1x, ticket',
      [
        '--work',
        '1s',
        '--sim-time',
        '5s',
        '--pinning',
        'A',
        '--overcommit',
        '1',
        '--lock',
        'ticket',
      ],
    ],
  ])('stepping gives what one long step gives: %s', (_what, args) => {
    const o = parseOptions('run', args);
    const stepped = headless(o);
    const m = new Machine(o.sim);
    m.runUntil(o.simTimeNs);
    const once = summarize(m);
    expect(stepped.events).toBe(m.events);
    expect(stepped.sim_time_ns).toBe(m.nowNs);
    expect(stepped.job).toEqual(once.job);
    expect(stepped.locks).toEqual(once.locks);
    expect(stepped.vcpus).toEqual(once.vcpus);
  });
});
