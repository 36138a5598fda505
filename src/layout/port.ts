import type { SimConfig } from '../sim/config';
import type { Machine } from '../sim/machine';
import { anyMechanism, mechanismCounters } from '../sim/mechanisms';
import type { GuestPort, TraceControl } from './tree';

/** Extra `key=value` settings shown in `pvlockfs/config` besides the simulation's own. */
export type ExtraSettings = Record<string, string | number | boolean>;

/**
 * Text of `pvlockfs/config`: one `key=value` line per setting, with the live values of what can
 * change while the guest runs (the hog count, the `timeout` knob).
 */
export function configText(
  cfg: SimConfig,
  live: { hogs: number; timeout: number },
  extra: ExtraSettings,
): string {
  const entries: [string, unknown][] = Object.entries({ ...cfg, ...live });
  for (const [k, v] of Object.entries(extra)) entries.push([k, v]);
  return entries.map(([k, v]) => `${k}=${v}\n`).join('');
}

/** What the driver of a machine's clock lends the control directory: `running` and `advance_ns`. */
export interface ClockControl {
  get(): number;
  set(v: number): void;
  /** Runs exactly `ns` simulated ns on a stopped guest (throws the errno otherwise). */
  advance?(ns: number): void;
}

/**
 * A GuestPort over a machine's guest `gi` (the first by default); pausing and stepping are
 * delegated to whoever drives its clock. The hogs and the clock are the host's, shared by all.
 */
export function machinePort(
  m: Machine,
  extra: ExtraSettings,
  running: ClockControl,
  trace?: TraceControl,
  gi = 0,
): GuestPort {
  const g = m.guests[gi];
  const cfg = g.cfg;
  const solutions = (): string => {
    const h = m.host.hints;
    const lines: [string, number][] = [];
    if (m.cfg.preemptHints)
      lines.push(
        ['hint_deferrals_granted', h.granted],
        ['hint_deferrals_expired', h.expired],
        ['hint_yields_on_release', h.yields],
      );
    if (cfg.runState) lines.push(['run_state_stops', g.algo.counts.runStateStops]);
    return lines.map(([k, v]) => `${k}=${v}\n`).join('');
  };
  const mechanisms = (): string =>
    Object.entries(mechanismCounters(g))
      .map(([k, v]) => `${k}=${v}\n`)
      .join('');
  const mechanismsOn = anyMechanism(cfg);
  return {
    ...(trace ? { trace } : {}),
    ...(m.cfg.preemptHints || cfg.runState ? { solutions } : {}),
    ...(mechanismsOn ? { mechanisms } : {}),
    stats: g.stats,
    qstats: g.qstats,
    seed: cfg.seed,
    simTimeNs: () => m.nowNs,
    holderPreemptedNs: () => g.waste.spinNs(),
    running: () => running.get(),
    setRunning: (v) => running.set(v),
    advance: running.advance ? (ns) => running.advance?.(ns) : null,
    hogs: () => m.hogCount,
    setHogs: (n) => m.setHogs(n),
    configText: () => configText(cfg, { hogs: m.hogCount, timeout: g.stats.timeout[0] }, extra),
  };
}
