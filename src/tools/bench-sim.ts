import { performance } from 'node:perf_hooks';
import { defaultConfig, hogsForOvercommit, SimConfig } from '../sim/config';
import { GuestSetup, Machine } from '../sim/machine';

/** One timed run: simulated seconds per wall second and events per wall second. */
export interface SpeedSample {
  sim_s: number;
  wall_ms: number;
  sim_s_per_wall_s: number;
  events_per_wall_s: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall time a run is warmed up for before it is timed (the engine compiles its hot code meanwhile). */
const WARM_UP_MS = 500;

/**
 * Times `simSeconds` of simulation after a warm-up of the same machine: at least one simulated
 * second and at least WARM_UP_MS of wall time (a small guest runs a simulated second in a few ms,
 * before the engine has compiled its hot code), so the figure is the steady rate.
 */
export function timeRun(cfg: SimConfig, simSeconds: number, setups?: GuestSetup[]): SpeedSample {
  const m = new Machine(cfg, setups);
  const w0 = performance.now();
  m.runUntil(1e9);
  while (performance.now() - w0 < WARM_UP_MS) m.runUntil(m.nowNs + 1e8);
  const ev0 = m.events;
  const sim0 = m.nowNs;
  const t0 = performance.now();
  m.runUntil(sim0 + simSeconds * 1e9);
  const wallMs = performance.now() - t0;
  return {
    sim_s: simSeconds,
    wall_ms: Math.round(wallMs),
    sim_s_per_wall_s: Math.round((simSeconds / (wallMs / 1000)) * 100) / 100,
    events_per_wall_s: Math.round((m.events - ev0) / (wallMs / 1000)),
  };
}

/** Median of `runs` timed runs. */
export function speed(cfg: SimConfig, simSeconds: number, runs: number): Record<string, unknown> {
  const samples = Array.from({ length: runs }, () => timeRun(cfg, simSeconds));
  return {
    vcpus: cfg.vcpus,
    pcpus: cfg.pcpus,
    hogs: cfg.hogs,
    lock: cfg.lock,
    median_sim_s_per_wall_s: median(samples.map((s) => s.sim_s_per_wall_s)),
    median_events_per_wall_s: median(samples.map((s) => s.events_per_wall_s)),
    runs: samples,
  };
}

/**
 * Several guests: `guests` guests of `vcpus` vCPUs each (the default guest's workload, pv-yield,
 * seeds 1…) on a host of `pcpus` pCPUs at 2x overcommit made by the guests themselves.
 */
export function guestsSpeed(
  guests: number,
  vcpus: number,
  pcpus: number,
  simSeconds: number,
  runs: number,
): Record<string, unknown> {
  const host = { ...defaultConfig(), pcpus, hogs: hogsForOvercommit(2, guests * vcpus, pcpus) };
  const setups = Array.from({ length: guests }, (_, i) => ({
    name: `g${i}`,
    cfg: { ...host, vcpus, seed: i + 1 },
  }));
  const samples = Array.from({ length: runs }, () => timeRun(host, simSeconds, setups));
  return {
    guests,
    vcpus_per_guest: vcpus,
    pcpus,
    hogs: host.hogs,
    median_sim_s_per_wall_s: median(samples.map((s) => s.sim_s_per_wall_s)),
    median_events_per_wall_s: median(samples.map((s) => s.events_per_wall_s)),
    runs: samples,
  };
}

/** The scaling curve: V vCPUs on V/2 pCPUs at 2x (so no hogs: the vCPUs themselves overcommit). */
export function curve(
  vcpuCounts: number[],
  simSeconds: number,
  runs: number,
): Record<string, unknown>[] {
  return vcpuCounts.map((v) => {
    const pcpus = Math.max(1, v / 2);
    const cfg = { ...defaultConfig(), vcpus: v, pcpus, hogs: hogsForOvercommit(2, v, pcpus) };
    return speed(cfg, Math.max(0.5, simSeconds / (v / 4)), runs);
  });
}

/** Runs the default guest for `seconds` of wall time, sampling memory every `everyS` seconds. */
export async function soak(
  seconds: number,
  everyS: number,
  say: (s: string) => void,
): Promise<Record<string, unknown>> {
  const m = new Machine(defaultConfig());
  const samples: {
    t_s: number;
    sim_s: number;
    rss_mb: number;
    heap_mb: number;
    heap_total_mb: number;
    external_mb: number;
  }[] = [];
  const start = performance.now();
  let nextSample = 0;
  const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
  while ((performance.now() - start) / 1000 < seconds) {
    m.runUntil(m.nowNs + 100_000_000);
    const t = (performance.now() - start) / 1000;
    if (t >= nextSample) {
      // With --expose-gc (scripts/bench passes it) heapUsed is measured after a full collection,
      // so it shows live data rather than where the collector happens to be.
      (globalThis as { gc?: () => void }).gc?.();
      const mem = process.memoryUsage();
      samples.push({
        t_s: Math.round(t),
        sim_s: Math.round(m.nowNs / 1e9),
        rss_mb: mb(mem.rss),
        heap_mb: mb(mem.heapUsed),
        heap_total_mb: mb(mem.heapTotal),
        external_mb: mb(mem.external),
      });
      say(
        `soak ${Math.round(t)} s: rss ${mb(mem.rss)} MiB, heap ${mb(mem.heapUsed)}/${mb(mem.heapTotal)} MiB, external ${mb(mem.external)} MiB, simulated ${Math.round(m.nowNs / 1e9)} s`,
      );
      nextSample += everyS;
      await new Promise((r) => setImmediate(r));
    }
  }
  const firstHalf = samples.slice(1, Math.max(2, samples.length >> 1)).map((s) => s.rss_mb);
  const secondHalf = samples.slice(samples.length >> 1).map((s) => s.rss_mb);
  return {
    wall_s: seconds,
    simulated_s: Math.round(m.nowNs / 1e9),
    rss_first_half_max_mb: Math.max(...firstHalf),
    rss_second_half_max_mb: Math.max(...secondHalf),
    heap_first_mb: samples[1]?.heap_mb ?? samples[0].heap_mb,
    heap_last_mb: samples[samples.length - 1].heap_mb,
    samples,
  };
}
