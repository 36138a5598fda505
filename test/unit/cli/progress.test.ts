import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../../src/cli/progress';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, isTTY, write: (s: string) => out.push(s) };
}

describe('progress on stderr', () => {
  it('a terminal gets one line rewritten in place, ended by a newline', () => {
    const s = sink(true);
    const p = progressReporter('experiment', s);
    p.update(1, 3, 2.2);
    p.update(3, 3, 0);
    p.end();
    expect(s.out).toEqual([
      '\rexperiment: 1/3 runs, about 3 s left   ',
      '\rexperiment: 3/3 runs, about 0 s left   ',
      '\n',
    ]);
  });

  it('a file or pipe gets whole lines: the first, then at most one per interval, and the last', () => {
    const s = sink(false);
    let now = 0;
    const p = progressReporter('named experiments', s, 5000, () => now);
    for (let done = 1; done <= 10; done++) {
      p.update(done, 10, 10 - done);
      now += 2000; // updates 2 s apart: lines at 0 s, 6 s, 12 s and the last one
    }
    p.end();
    expect(s.out).toEqual([
      'named experiments: 1/10 runs, about 9 s left\n',
      'named experiments: 4/10 runs, about 6 s left\n',
      'named experiments: 7/10 runs, about 3 s left\n',
      'named experiments: 10/10 runs, about 0 s left\n',
    ]);
  });
});
