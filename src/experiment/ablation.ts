import type { Comparison } from './compare';

/** One cell of an ablation: the Difference without and with the mechanism, and the RFC's. */
export interface AblationRow {
  cell: string;
  withoutPct: number;
  withPct: number;
  rfcPct: number;
}

/** An ablation's summary measures, without and with the mechanism. */
export interface AblationSummary {
  maePp: number;
  pvWins: number;
  cells: number;
  /** Largest error of T_k / T_1 of the same scenario (ticket, pv-yield), as a fraction. */
  baseScenarioRatioErr: number;
  pvScenarioRatioErr: number;
}

/**
 * Largest relative error of each lock's T_k / T_1 against the same scenario's 1x (the RFC's
 * ratios of the same kind), over the cells compared.
 */
export function scenarioRatioErrors(c: Comparison): { base: number; pv: number } {
  let base = 0;
  let pv = 0;
  for (const r of c.rows) {
    const one = c.rows.find((x) => x.scenario === r.scenario && x.k === 1);
    if (!one || r.k === 1) continue;
    const simB = r.base.mean_s / one.base.mean_s;
    const simP = r.pv.mean_s / one.pv.mean_s;
    const rfcB = r.rfcBaseRatio / one.rfcBaseRatio;
    const rfcP = r.rfcPvRatio / one.rfcPvRatio;
    base = Math.max(base, Math.abs(simB / rfcB - 1));
    pv = Math.max(pv, Math.abs(simP / rfcP - 1));
  }
  return { base, pv };
}

/** The summary of one comparison. */
export function ablationSummary(c: Comparison): AblationSummary {
  const e = scenarioRatioErrors(c);
  return {
    maePp: c.maeDiffPp,
    pvWins: c.pvWins,
    cells: c.rows.length,
    baseScenarioRatioErr: e.base,
    pvScenarioRatioErr: e.pv,
  };
}

/** Cell by cell, the Difference of the run without the mechanism beside the run with it. */
export function ablationRows(without: Comparison, withIt: Comparison): AblationRow[] {
  return without.rows.flatMap((r) => {
    const w = withIt.rows.find((x) => x.scenario === r.scenario && x.k === r.k);
    if (!w) return [];
    return [
      {
        cell: `${r.scenario}-${r.k}x`,
        withoutPct: r.diff * 100,
        withPct: w.diff * 100,
        rfcPct: r.rfcDiff * 100,
      },
    ];
  });
}

/** The ablation as a Markdown table with its summary lines (what docs/calibration.md shows). */
export function formatAblation(
  name: string,
  rows: readonly AblationRow[],
  without: AblationSummary,
  withIt: AblationSummary,
): string {
  const pct = (x: number): string => `${x >= 0 ? '' : '−'}${Math.abs(x).toFixed(1)} %`;
  const pp = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`;
  const lines = [
    `Ablation of ${name}: Difference (ticket − pv-yield) / ticket per cell, without and with it`,
    '',
    '| cell | without | with | change | RFC |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.cell} | ${pct(r.withoutPct)} | ${pct(r.withPct)} | ${pp(r.withPct - r.withoutPct)} pp | ${pct(r.rfcPct)} |`,
    ),
    '',
    '| measure | without | with |',
    '|---|---|---|',
    `| Difference MAE | ${without.maePp.toFixed(1)} pp | ${withIt.maePp.toFixed(1)} pp |`,
    `| pv-yield faster | ${without.pvWins}/${without.cells} | ${withIt.pvWins}/${withIt.cells} |`,
    `| ticket T_k/T_1 (same scenario), largest error | ${(without.baseScenarioRatioErr * 100).toFixed(0)} % | ${(withIt.baseScenarioRatioErr * 100).toFixed(0)} % |`,
    `| pv-yield T_k/T_1 (same scenario), largest error | ${(without.pvScenarioRatioErr * 100).toFixed(0)} % | ${(withIt.pvScenarioRatioErr * 100).toFixed(0)} % |`,
  ];
  return lines.join('\n');
}
