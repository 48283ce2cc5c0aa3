// Mean ± standard deviation over seeds (sample std, n − 1; 0 for one seed).

export interface Stat {
  mean: number;
  std: number;
  n: number;
}

export function stat(values: number[]): Stat {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** "97.53" or "97.53 ± 0.12" (percent, from fractions); "-" when undefined. */
export function fmtStat(s: Stat | undefined, digits = 1, withStd = true): string {
  if (!s || !Number.isFinite(s.mean)) return '-';
  const m = (100 * s.mean).toFixed(digits);
  return withStd && s.n > 1 ? `${m} ± ${(100 * s.std).toFixed(digits + 1)}` : m;
}
