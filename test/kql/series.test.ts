import { describe, expect, it } from "vitest";
import { seriesDecomposeAnomalies, seriesOutliers } from "../../src/kql/series.js";
import { rows } from "./fixtures.js";

describe("series_outliers (Tukey on the 10th–90th percentile range, Kusto's ctukey)", () => {
  it("scores distance beyond the percentile range in units of that range (hand-computed)", () => {
    // Sorted 1..9, 100: P10 = 1 + 0.9·(2 − 1) = 1.9; P90 = 9 + 0.1·(100 − 9) = 18.1; range 16.2.
    const s = seriesOutliers([1, 2, 3, 4, 5, 6, 7, 8, 9, 100]);
    expect(s[9]).toBeCloseTo((100 - 18.1) / 16.2, 9);
    expect(s[0]).toBeCloseTo((1 - 1.9) / 16.2, 9);
    expect(s.slice(1, 9)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("uses 25th–75th for kind tukey and ignores nulls", () => {
    const s = seriesOutliers([1, 2, 3, 4, 5, 6, 7, 8, 20, null], "tukey");
    expect(s[9]).toBe(0);
    // The null scores 0 and is left out: sorted 1..8, 20 (9 values): P25 at index 2 → 3, P75 at index 6 → 7.
    expect(s[8]).toBeCloseTo((20 - 7) / 4, 9);
  });

  it("is reachable from KQL on make-series output", () => {
    const r = rows("print s = dynamic([1,2,3,4,5,6,7,8,9,100]) | extend o = series_outliers(s) | project o");
    expect((r[0]![0] as number[])[9]).toBeGreaterThan(1.5);
  });
});

describe("series_decompose_anomalies (linefit trend + optional seasonal median, ctukey on residuals)", () => {
  it("flags a spike as +1 and a dip as −1 on a flat series", () => {
    const base = Array.from({ length: 20 }, () => 10);
    base[10] = 50;
    base[15] = -30;
    const flags = seriesDecomposeAnomalies(base);
    expect(flags[10]).toBe(1);
    expect(flags[15]).toBe(-1);
    expect(flags.filter((f) => f !== 0)).toHaveLength(2);
  });

  it("does not flag a clean linear trend, and removes a known seasonal pattern", () => {
    expect(seriesDecomposeAnomalies(Array.from({ length: 30 }, (_, i) => 3 * i + 5)).every((f) => f === 0)).toBe(true);
    const seasonal: number[] = Array.from({ length: 28 }, (_, i) => (i % 4 === 0 ? 40 : 10));
    expect(seriesDecomposeAnomalies(seasonal, 1.5, 4).every((f) => f === 0)).toBe(true);
    seasonal[13] = 60; // phase 1 is normally 10
    const flags = seriesDecomposeAnomalies(seasonal, 1.5, 4);
    expect(flags[13]).toBe(1);
  });
});
