// Time-series functions for make-series output.

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * series_outliers: Tukey's test on the 10th–90th percentile range (Kusto's defaults). A point between the percentiles
 * scores 0; above p90 it scores (x − p90) / (p90 − p10), below p10 (x − p10) / (p90 − p10). |score| > 1.5 marks an
 * outlier, > 3 an extreme one — the thresholds Kusto's documentation uses. A flat series (p90 = p10) uses 1 as the
 * range so a single spike still scores by its size.
 */
export function seriesOutliers(series: number[]): number[] {
  const sorted = series.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const p10 = quantile(sorted, 0.1);
  const p90 = quantile(sorted, 0.9);
  const unit = p90 - p10 > 0 ? p90 - p10 : 1;
  return series.map((x) => (x > p90 ? (x - p90) / unit : x < p10 ? (x - p10) / unit : 0));
}

/**
 * series_decompose_anomalies (simplified, documented): baseline = median of the series (no seasonality detection),
 * residual = value − baseline, scored with Tukey's fences on the residuals' 25th–75th percentiles; returns +1 / −1
 * for anomalies above / below at `threshold` (default 1.5), 0 otherwise. `seasonality` is accepted and ignored
 * unless it is -1 (auto) or 0 (none), which behave the same here.
 */
export function seriesDecomposeAnomalies(series: number[], threshold = 1.5, _seasonality = -1): number[] {
  const sorted = series.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const residuals = series.map((x) => x - median);
  const rs = residuals.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const q1 = quantile(rs, 0.25);
  const q3 = quantile(rs, 0.75);
  const iqr = Math.max(q3 - q1, 1e-9);
  return residuals.map((r) => (r > q3 + threshold * iqr ? 1 : r < q1 - threshold * iqr ? -1 : 0));
}
