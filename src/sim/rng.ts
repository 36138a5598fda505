import seedrandom from 'seedrandom';

/**
 * A seeded random stream. The simulation draws from several, each in event order, so a seed and
 * a config fix every number it produces: the main stream (host set-up, lock-algorithm draws) and
 * one named stream per vCPU workload and per host-noise source. Separate streams give two runs
 * that differ only in the lock algorithm the same job (common random numbers): vCPU i draws the
 * same sequence of user stretches, bursts, locks and holds whatever the lock does to timing.
 */
export class Rng {
  /*
   * The generator is Baagøe's Alea (a multiply-with-carry with lag 3), seeded by `seedrandom`'s
   * implementation, whose state it then steps itself: the same numbers, without a call through
   * a closure for each.
   */
  /** The three lagged words and the carry. */
  private readonly st = new Float64Array(4);
  private spareNormal = NaN;
  /** The last mean `geometric` was asked for, and its log(1 − 1/mean). */
  private geoMean = NaN;
  private geoLogQ = NaN;

  /** Creates the stream for a seed (any non-negative integer); `name` selects an independent sub-stream. */
  constructor(seed: number, name = '') {
    const key = name === '' ? `pvlockfs:${seed}` : `pvlockfs:${seed}:${name}`;
    const st = seedrandom.alea(key, { state: true }).state();
    this.st[0] = st.s0;
    this.st[1] = st.s1;
    this.st[2] = st.s2;
    this.st[3] = st.c;
  }

  /** The generator's next number in [0, 1): each step multiplies the oldest word and carries. */
  private next(): number {
    const st = this.st;
    const t = 2091639 * st[0] + st[3] * 2.3283064365386963e-10; // 2^-32
    const c = t | 0;
    const x = t - c;
    st[0] = st[1];
    st[1] = st[2];
    st[2] = x;
    st[3] = c;
    return x;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.next();
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Exponential with the given mean, rounded to whole nanoseconds (at least 1). */
  expNs(meanNs: number): number {
    return Math.max(1, Math.round(-Math.log(1 - this.next()) * meanNs));
  }

  /** Standard normal (Box–Muller, the second value kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const z = this.spareNormal;
      this.spareNormal = NaN;
      return z;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Lognormal with the given mean and log-space sigma, in whole nanoseconds (at least 1). */
  lognormalNs(meanNs: number, sigma: number): number {
    return this.lognormalMuNs(lognormalMu(meanNs, sigma), sigma);
  }

  /** The same draw with the log-space mean `mu` (from `lognormalMu`) worked out once by the caller. */
  lognormalMuNs(mu: number, sigma: number): number {
    return Math.max(1, Math.round(Math.exp(mu + sigma * this.normal())));
  }

  /**
   * Poisson count of events at `ratePerSec` in `ns` nanoseconds: `poisson(ratePerSec × ns / 1e9)`,
   * with the mean worked out here (whole-number arguments pass into a call unboxed; a fractional
   * mean would be a new heap number at every call the engine does not inline).
   */
  poissonIn(ratePerSec: number, ns: number): number {
    return this.poisson((ratePerSec * ns) / 1e9);
  }

  /** Geometric count ≥ 1 with the given mean. */
  geometric(mean: number): number {
    if (mean <= 1) return 1;
    // log(1 − 1/mean) is the same number for the same mean: worked out once per mean in a row.
    if (mean !== this.geoMean) {
      this.geoMean = mean;
      this.geoLogQ = Math.log(1 - 1 / mean);
    }
    return 1 + Math.floor(Math.log(1 - this.next()) / this.geoLogQ);
  }

  /** Poisson count with a small mean (inversion; bounded so a huge mean cannot loop forever). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    let prod = this.next();
    // exp(−mean) ≥ 1 − mean: a first draw below that (less a margin for rounding) is a zero
    // count without computing the exponential; the answer is the same.
    if (prod < 1 - mean - 2 ** -50) return 0;
    const limit = Math.exp(-mean);
    let k = 0;
    while (prod > limit && k < 1000) {
      k += 1;
      prod *= this.next();
    }
    return k;
  }
}

/** A lognormal distribution, its log-space mean worked out once (see `Rng.lognormalMuNs`). */
export class Lognormal {
  readonly mu: number;

  /** The lognormal with mean `meanNs` and log-space sigma `sigma`. */
  constructor(
    meanNs: number,
    readonly sigma: number,
  ) {
    this.mu = lognormalMu(meanNs, sigma);
  }

  /** One draw from `rng`, in whole nanoseconds (at least 1): `rng.lognormalMuNs(mu, sigma)`. */
  draw(rng: Rng): number {
    return rng.lognormalMuNs(this.mu, this.sigma);
  }
}

/** The log-space mean of a lognormal with mean `meanNs` and log-space sigma `sigma`. */
export function lognormalMu(meanNs: number, sigma: number): number {
  return Math.log(meanNs) - (sigma * sigma) / 2;
}
