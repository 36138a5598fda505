import { defaultConfig, SimConfig } from '../../../src/sim/config';
import { Act } from '../../../src/sim/vcpu';
import type { Machine } from '../../../src/sim/machine';
import { Histo, U64 } from '../../../src/sim/stats';

/** A quiet machine: no noise, no stalls, no idle, no hogs; override what a test needs. */
export function quietConfig(over: Partial<SimConfig> = {}): SimConfig {
  return {
    ...defaultConfig(),
    hogs: 0,
    hostNoise: false,
    stalls: false,
    idleProbability: 0,
    ...over,
  };
}

/**
 * A quiet machine with `vcpus` vCPUs on one pCPU and one shared lock held 3 ms at a time, one
 * acquisition after each `userNsMean` of user work: the slices end inside critical sections, so
 * holders are preempted and waiters wait through whole slices.
 */
export function oneLockOnePcpu(
  lock: SimConfig['lock'],
  vcpus: number,
  userNsMean = 1_000_000,
): SimConfig {
  return quietConfig({
    lock,
    vcpus,
    pcpus: 1,
    locks: 1,
    holdNsMean: 3_000_000,
    holdSigma: 0,
    userNsMean,
    burstAcquisitionsMean: 1,
  });
}

/** Sum of a histogram. */
export function sum(h: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < h.length; i++) s += h[i];
  return s;
}

/** The docs/debugfs.md §4 invariants, corrected for vCPUs caught mid-acquisition at the snapshot. */
export function checkInvariants(m: Machine): void {
  const s = m.guest.stats;
  const taken = Number(s.getU64(U64.Taken));
  const released = Number(s.getU64(U64.Released));
  const acquiring = m.guest.vcpus.filter(
    (v) => v.act === Act.SpinPv || v.act === Act.Hypercall || v.act === Act.Yielded,
  ).length;
  const inSlow = m.guest.vcpus.filter(
    (v) => v.act === Act.Hypercall || v.act === Act.Yielded,
  ).length;
  const completed = taken - acquiring;
  if (sum(s.histo[Histo.Total]) !== completed)
    throw new Error(`sum(histo_total) ${sum(s.histo[Histo.Total])} != completed ${completed}`);
  if (sum(s.histo[Histo.Blocked]) !== s.takenSlow[0] - inSlow)
    throw new Error('sum(histo_blocked) != taken_slow');
  const spin = sum(s.histo[Histo.Spinning]);
  if (s.timeout[0] === 0xffffffff ? spin < completed : spin !== completed + s.takenSlow[0]) {
    throw new Error(
      `sum(histo_spinning) ${spin} vs completed ${completed} + taken_slow ${s.takenSlow[0]}`,
    );
  }
  if (taken - released < 0 || taken - released > m.cfg.vcpus)
    throw new Error(`taken - released = ${taken - released}`);
}
