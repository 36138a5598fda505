import { RFC_TABLE } from '../experiment/rfc-table';
import { Cell, Comparison, targetChecks } from '../experiment/compare';
import type { NamedResult } from '../experiment/named';

const f = (x: number, w = 9, d = 3): string =>
  (Number.isFinite(x) ? x.toFixed(d) : 'DNF').padStart(w);
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`.padStart(7);

/** The RFC's table layout with the simulated numbers, the RFC's beside them, and residuals. */
export function formatTable(c: Comparison): string {
  const out: string[] = [];
  for (const s of ['A', 'B', 'C']) {
    const rows = c.rows.filter((r) => r.scenario === s);
    if (rows.length === 0) continue;
    out.push(`Scenario ${s}`);
    out.push(
      `     W/o patch (sd)        W/ patch (sd)          Diff (paired sd, pv first) |  RFC W/o     W/ patch     Diff  | resid.  | T/T_A1 base sim/RFC  pv sim/RFC`,
    );
    for (const r of rows) {
      const rfc = RFC_TABLE[s][r.k];
      out.push(
        `${r.k}x: ${f(r.base.mean_s)} (${f(r.base.stddev_s, 6, 2)})  ${f(r.pv.mean_s)} (${f(r.pv.stddev_s, 6, 2)})  ${pct(r.diff)} ${`(±${(r.paired.sd * 100).toFixed(1)}, ${r.paired.pvFaster}/${r.paired.runs})`.padEnd(13)} | ${f(rfc.base)} ${f(rfc.pv)} ${pct(r.rfcDiff)}  | ${(r.residualPp >= 0 ? '+' : '') + r.residualPp.toFixed(1)} pp | ${r.baseRatio.toFixed(2)}/${r.rfcBaseRatio.toFixed(2)}  ${r.pvRatio.toFixed(2)}/${r.rfcPvRatio.toFixed(2)}`,
      );
    }
    out.push('');
  }
  out.push(
    `Mean absolute error of Difference: ${c.maeDiffPp.toFixed(1)} pp over ${c.rows.length} ${c.rows.length === 1 ? 'cell' : 'cells'} (target ≤ 8 pp)`,
  );
  out.push(
    `pv-yield beats ticket in ${c.pvWins}/${c.rows.length} cells; ticket's std-dev exceeds pv's in ${c.baseNoisier}/${c.rows.length}`,
  );
  const split = c.rows
    .filter((r) => r.paired.pvFaster > 0 && r.paired.pvFaster < r.paired.runs)
    .map((r) => `${r.scenario}-${r.k}x`);
  out.push(
    `Per seed (both locks run the same job at a seed; "pv first" counts the seeds pv-yield finished first), the faster lock changes between seeds in: ${split.length ? split.join(', ') : 'no cell'}`,
  );
  out.push(
    `Largest T_k/T_A1 error: baseline ${(c.baseRatioMaxRelErr * 100).toFixed(0)}% (target ≤ 20%), pv ${(c.pvRatioMaxRelErr * 100).toFixed(0)}% (target ≤ 10%)`,
  );
  return out.join('\n');
}

/** A compact table of every cell (all algorithms), for the comparison section. */
export function formatCells(all: Cell[]): string {
  const us = (ns: number): string =>
    ns >= 1e6 ? `${(ns / 1e6).toFixed(1)} ms` : `${(ns / 1e3).toFixed(1)} µs`;
  const header = [
    'cell'.padEnd(6),
    'lock'.padEnd(14),
    'mean_s'.padStart(9),
    'sd'.padStart(6),
    'DNF'.padStart(4),
    '  cpu_share (vCPU min–max)'.padEnd(26),
    'spin'.padStart(5),
    'lhp'.padStart(5),
    'wait p99.9 / max'.padStart(20),
    'grants_to_preempted'.padStart(20),
    '  convoys (longest)',
  ];
  const out = [header.join(' ')];
  for (const c of all) {
    out.push(
      [
        `${c.scenario}-${c.overcommit}x`.padEnd(6),
        c.lock.padEnd(14),
        f(c.mean_s),
        f(c.stddev_s, 6, 2),
        String(c.did_not_finish).padStart(4),
        `  ${c.cpu_share.toFixed(3)} (${c.vcpu_share_min.toFixed(3)}–${c.vcpu_share_max.toFixed(3)})`.padEnd(
          26,
        ),
        c.spin_share.toFixed(3).padStart(5),
        c.holder_preempted_share.toFixed(3).padStart(5),
        `${us(c.lock_wait_p999_ns)} / ${us(c.lock_wait_max_ns)}`.padStart(20),
        String(c.grants_to_preempted_waiters).padStart(20),
        `  ${c.convoy_episodes} (${(c.convoy_max_ns / 1e6).toFixed(0)} ms)`,
      ].join(' '),
    );
  }
  return out.join('\n');
}

/** The target checklist as text lines. */
export function formatTargets(c: Comparison): string {
  return targetChecks(c)
    .map((t) => `${t.met ? 'met    ' : 'NOT met'}  ${t.target}: ${t.value}`)
    .join('\n');
}

/** Text of the named experiments, one block each. */
export function formatNamed(rs: NamedResult[]): string {
  return rs
    .map((r) => `[${r.shown ? 'shown' : 'NOT shown'}] ${r.name}: ${r.claim}\n    ${r.evidence}`)
    .join('\n');
}
