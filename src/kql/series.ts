// Time-series functions for make-series output.

/** Linear-interpolated percentile (p in [0, 100]) of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * (p / 100);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * series_outliers, as Kusto defines it: Tukey's test on a percentile range ("ctukey": 10th–90th by default,
 * "tukey": 25th–75th). A point between the low and high percentile scores 0; above, (x − P_high) / (P_high − P_low);
 * below, (x − P_low) / (P_high − P_low). So |score| > 1.5 is exactly "beyond Tukey's fence" and Kusto's documented
 * reading (> 1.5 rise anomaly, < −1.5 decline anomaly) holds. A flat series (zero range) uses a unit of 1.
 * Null / NaN points (and `ignoreVal`) score 0 and do not enter the percentiles.
 */
export function seriesOutliers(
  series: (number | null)[],
  kind = "ctukey",
  ignoreVal: number | null = null,
  minPercentile = 10,
  maxPercentile = 90,
): number[] {
  const valid = (x: number | null): x is number => x !== null && Number.isFinite(x) && x !== ignoreVal;
  const sorted = series.filter(valid).sort((a, b) => a - b);
  const [pl, ph] = kind === "tukey" ? [25, 75] : [minPercentile, maxPercentile];
  const low = percentile(sorted, pl);
  const high = percentile(sorted, ph);
  const unit = high - low > 0 ? high - low : 1;
  return series.map((x) => {
    if (!valid(x)) return 0;
    return x > high ? (x - high) / unit : x < low ? (x - low) / unit : 0;
  });
}

/** Least-squares line through (i, y_i) for i = 0, 1, …: slope and mean (the line passes (mean x, mean y)). */
export function leastSquares(ys: number[]): { slope: number; meanX: number; meanY: number } {
  const n = ys.length;
  const meanX = (n - 1) / 2;
  const meanY = n ? ys.reduce((a, b) => a + b, 0) / n : 0;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (i - meanX) * (ys[i]! - meanY);
    sxx += (i - meanX) ** 2;
  }
  return { slope: sxx ? sxy / sxx : 0, meanX, meanY };
}

/** Kusto's default "linefit" trend: the least-squares line's values. */
function lineFit(ys: number[]): number[] {
  if (ys.length === 0) return [];
  const { slope, meanX, meanY } = leastSquares(ys);
  return ys.map((_, i) => meanY + slope * (i - meanX));
}

/**
 * series_decompose_anomalies(series, threshold = 1.5, seasonality = -1): returns the anomaly flags (+1 rise, −1
 * decline, 0 none). Algorithm: baseline = linear trend (least squares) plus, when `seasonality` is a positive period,
 * the per-phase median of the detrended series; residual = value − baseline; flags where the residual's
 * series_outliers score (ctukey, 10th–90th) exceeds ±threshold. Differences from Kusto: seasonality auto-detection
 * (−1) is treated as "none", and only the flag series (not score/baseline) is returned.
 */
export function seriesDecomposeAnomalies(series: (number | null)[], threshold = 1.5, seasonality = -1): number[] {
  return decomposeAnomalies(series, threshold, seasonality).flags;
}

/** The three series of series_decompose_anomalies: flags, scores (series_outliers of the residual) and baseline. */
export function decomposeAnomalies(
  series: (number | null)[],
  threshold = 1.5,
  seasonality = -1,
): { flags: number[]; scores: number[]; baseline: number[] } {
  const ys = series.map((x) => (x !== null && Number.isFinite(x) ? x : 0));
  const trend = lineFit(ys);
  const detrended = ys.map((y, i) => y - trend[i]!);
  const seasonal = new Array<number>(ys.length).fill(0);
  if (seasonality > 1 && seasonality < ys.length) {
    for (let phase = 0; phase < seasonality; phase++) {
      const vals: number[] = [];
      for (let i = phase; i < ys.length; i += seasonality) vals.push(detrended[i]!);
      const med = percentile(
        vals.sort((a, b) => a - b),
        50,
      );
      for (let i = phase; i < ys.length; i += seasonality) seasonal[i] = med;
    }
  }
  const residual = ys.map((y, i) => y - trend[i]! - seasonal[i]!);
  const scores = seriesOutliers(residual);
  return {
    flags: scores.map((s) => (s > threshold ? 1 : s < -threshold ? -1 : 0)),
    scores,
    baseline: ys.map((_, i) => trend[i]! + seasonal[i]!),
  };
}
