/**
 * The RFC's results table: "Paravirt-spinlock implementation for KVM guests (Version 0)",
 * Srivatsa Vaddagiri, LKML, 26 July 2010 (patch 0/4): `time -p make -s -j20 bzImage`, average of 3
 * runs in seconds, without the patch (stock ticket lock) and with it (pv spin-then-yield).
 */
export const RFC_TABLE: Record<string, Record<number, { base: number; pv: number }>> = {
  A: {
    1: { base: 273.27, pv: 251.613 },
    2: { base: 541.343, pv: 443.4 },
    3: { base: 819.16, pv: 642.393 },
    4: { base: 1020.493, pv: 839.327 },
  },
  B: {
    1: { base: 276.947, pv: 248.397 },
    2: { base: 500.723, pv: 438.957 },
    3: { base: 725.687, pv: 641.317 },
    4: { base: 973.91, pv: 836.853 },
  },
  C: {
    1: { base: 564.61, pv: 420.51 },
    2: { base: 750.867, pv: 618.57 },
    3: { base: 950.15, pv: 813.803 },
    4: { base: 1125.027, pv: 1007.63 },
  },
};

/** The RFC's Difference column: (base − pv) / base. */
export function rfcDifference(scenario: string, k: number): number | null {
  const c = RFC_TABLE[scenario]?.[k];
  return c ? (c.base - c.pv) / c.base : null;
}
