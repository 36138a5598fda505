import { LOCKS, MAX_HOGS, PINNINGS, PLES, RUN_STATE_LOCKS, SimConfig } from './config';
import { MECHANISM_INT_RANGES, MECHANISM_REAL_RANGES } from './mech-config';
import { LOCK_ALGORITHMS } from './lock-registry';

/*
 * The one check of a configuration: every parameter's range and the rules that tie parameters
 * together, so a bad value is an operating error named by its key, not a crash in the engine.
 */

/** A rejected parameter: which one, the value and what was expected. */
export interface ConfigProblem {
  key: keyof SimConfig;
  value: unknown;
  expected: string;
}

/** The whole-number parameters and their ranges (inclusive). */
export const INT_RANGES: Readonly<Partial<Record<keyof SimConfig, readonly [number, number]>>> = {
  seed: [0, Number.MAX_SAFE_INTEGER],
  vcpus: [1, 256],
  pcpus: [1, 256],
  coresPerPackage: [1, 256],
  hogs: [0, MAX_HOGS],
  timeout: [0, 0xffffffff],
  spinThreshold: [1, 0xffffffff],
  prevCheckIterations: [1, 0xffffffff],
  pvHashEntries: [4, 1 << 20],
  pleWindowNs: [1, 1e9],
  pleSleepNs: [1, 1e9],
  latencyNs: [1, 1e10],
  minGranularityNs: [1, 1e10],
  wakeupGranularityNs: [0, 1e10],
  tickNs: [1000, 1e9],
  balanceTicks: [1, 1e6],
  migrationCostNs: [0, 1e10],
  ctxSwitchNs: [0, 1e8],
  hypercallNs: [0, 1e8],
  spinIterationNs: [1, 1e6],
  xchgNs: [0, 1e6],
  samePackageTransferNs: [0, 1e6],
  crossPackageTransferNs: [0, 1e6],
  lineRequestNs: [0, 1e6],
  noiseBurstMinNs: [1, 1e9],
  noiseBurstMaxNs: [1, 1e9],
  userNsMean: [1, 1e10],
  gapNsMean: [1, 1e9],
  holdNsMean: [1, 1e9],
  localHoldNsMean: [1, 1e9],
  locks: [1, 100_000],
  idleNsMean: [1, 1e10],
  stallNs: [0, 1e9],
  convoyMinWaiters: [1, 1024],
  hintMaxDeferNs: [1, 1e8],
  shares: [2, 262144],
  jobWorkNs: [1, 1e15],
  ...MECHANISM_INT_RANGES,
};

/** The real-valued parameters and their ranges (inclusive). */
export const REAL_RANGES: Readonly<Partial<Record<keyof SimConfig, readonly [number, number]>>> = {
  cHogShare: [0, 1],
  irqsaveShare: [0, 1],
  noiseShare: [0, 0.5],
  burstAcquisitionsMean: [1, 1e6],
  holdSigma: [0, 4],
  lockZipf: [0, 10],
  hotLockShare: [0, 1],
  localLockShare: [0, 1],
  remoteLocalShare: [0, 1],
  idleProbability: [0, 1],
  stallRatePerSec: [0, 1e7],
  ...MECHANISM_REAL_RANGES,
};

/** Checks every parameter; returns the problems found (empty when the config is usable). */
export function validateConfig(c: SimConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [key, [lo, hi]] of Object.entries(INT_RANGES) as [
    keyof SimConfig,
    [number, number],
  ][]) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      problems.push({ key, value: v, expected: `a whole number from ${lo} to ${hi}` });
    }
  }
  for (const [key, [lo, hi]] of Object.entries(REAL_RANGES) as [
    keyof SimConfig,
    [number, number],
  ][]) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
      problems.push({ key, value: v, expected: `a number from ${lo} to ${hi}` });
    }
  }
  if (!LOCKS.includes(c.lock))
    problems.push({ key: 'lock', value: c.lock, expected: LOCKS.join(' | ') });
  if (!PLES.includes(c.ple))
    problems.push({ key: 'ple', value: c.ple, expected: PLES.join(' | ') });
  if (c.runState && !RUN_STATE_LOCKS.includes(c.lock))
    problems.push({
      key: 'runState',
      value: `${c.runState} with --lock ${c.lock}`,
      expected: `false: run-state sharing is an option of ${RUN_STATE_LOCKS.join(', ')}`,
    });
  if (!PINNINGS.includes(c.pinning))
    problems.push({ key: 'pinning', value: c.pinning, expected: PINNINGS.join(' | ') });
  if (c.localLockShare + c.remoteLocalShare > 1) {
    problems.push({
      key: 'remoteLocalShare',
      value: c.remoteLocalShare,
      expected: `at most 1 − localLockShare (${1 - c.localLockShare})`,
    });
  }
  if (c.noiseBurstMaxNs < c.noiseBurstMinNs) {
    problems.push({
      key: 'noiseBurstMaxNs',
      value: c.noiseBurstMaxNs,
      expected: `at least noiseBurstMinNs (${c.noiseBurstMinNs})`,
    });
  }
  // pv_hash keeps at most one lock per halted queue head, so the table needs a slot per vCPU.
  if (LOCK_ALGORITHMS[c.lock].layout === 'qlockstat' && c.pvHashEntries < c.vcpus) {
    problems.push({
      key: 'pvHashEntries',
      value: c.pvHashEntries,
      expected: `at least the vCPU count (${c.vcpus}) with ${c.lock}`,
    });
  }
  if (c.mmuLockHoldNs > c.mmuFaultNs)
    problems.push({
      key: 'mmuLockHoldNs',
      value: c.mmuLockHoldNs,
      expected: `at most mmuFaultNs (${c.mmuFaultNs}): the lock is held inside the fault`,
    });
  if (c.pinning === 'C' && c.pcpus < 2)
    problems.push({ key: 'pcpus', value: c.pcpus, expected: 'at least 2 for pinning C' });
  return problems;
}
