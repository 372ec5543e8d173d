import { describe, expect, it } from "vitest";
import { executeKql } from "../../src/kql/index.js";
import type { KqlTable, KqlValue } from "../../src/kql/types.js";
import { source } from "./fixtures.js";

// Properties over a seeded random table, each checked against plain JavaScript over the same rows.

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const T0 = Date.UTC(2026, 2, 1);
const rand = prng(42);
const KEYS = ["alpha", "Alpha", "beta", "gamma", "", "delta"];
const data: KqlValue[][] = Array.from({ length: 2000 }, (_, i) => {
  const tags = rand() < 0.1 ? null : Array.from({ length: Math.floor(rand() * 4) }, (_, j) => `t${j}`);
  return [
    T0 + Math.floor(rand() * 7 * 86_400_000),
    KEYS[Math.floor(rand() * KEYS.length)]!,
    rand() < 0.1 ? null : Math.floor(rand() * 100),
    tags,
    i,
  ];
});
const R: KqlTable = {
  name: "R",
  columns: [
    { name: "TimeGenerated", type: "datetime" },
    { name: "k", type: "string" },
    { name: "n", type: "long" },
    { name: "tags", type: "dynamic" },
    { name: "id", type: "long" },
  ],
  rows: data,
};
const src = source([R]);
const q = (text: string, timespan?: { start: number; end: number }) =>
  executeKql(text, src, { now: T0, ...(timespan ? { timespan } : {}) }).rows;
const scalar = (text: string) => q(text)[0]![0];

describe("engine properties against plain JS", () => {
  it("summarize count() by k sums to the row count and matches a JS group-by", () => {
    const groups = q("R | summarize c = count() by k");
    expect(groups.reduce((s, r) => s + (r[1] as number), 0)).toBe(data.length);
    const js = new Map<string, number>();
    for (const r of data) js.set(r[1] as string, (js.get(r[1] as string) ?? 0) + 1);
    expect(new Map(groups.map((r) => [r[0] as string, r[1] as number]))).toEqual(js);
  });

  it("where p | count + where not(p) | count == count, for several predicates", () => {
    for (const p of [
      "n > 50",
      "k has 'alpha'",
      "k == 'alpha'",
      "isnull(n)",
      "k in ('beta', '')",
      "n between (10 .. 20)",
    ]) {
      const a = scalar(`R | where ${p} | count`) as number;
      const b = scalar(`R | where not(${p}) | count`) as number;
      expect(a + b).toBe(data.length);
    }
    expect(scalar("R | where n > 50 | count")).toBe(data.filter((r) => r[2] !== null && (r[2] as number) > 50).length);
    expect(scalar("R | where k =~ 'ALPHA' | count")).toBe(
      data.filter((r) => (r[1] as string).toLowerCase() === "alpha").length,
    );
    expect(scalar("R | where k == 'alpha' | count")).toBe(data.filter((r) => r[1] === "alpha").length);
  });

  it("take n returns min(n, rows)", () => {
    for (const n of [0, 1, 7, 1999, 2000, 5000]) expect(q(`R | take ${n}`)).toHaveLength(Math.min(n, data.length));
    expect(q("R | where k == 'beta' | take 100000")).toHaveLength(data.filter((r) => r[1] === "beta").length);
  });

  it("sum, dcount, min, max, avg agree with JS", () => {
    const ns = data.map((r) => r[2]).filter((v): v is number => v !== null);
    expect(scalar("R | summarize sum(n)")).toBe(ns.reduce((a, b) => a + b, 0));
    expect(scalar("R | summarize dcount(k)")).toBe(new Set(data.map((r) => r[1])).size);
    expect(scalar("R | summarize min(n)")).toBe(Math.min(...ns));
    expect(scalar("R | summarize max(n)")).toBe(Math.max(...ns));
    expect(scalar("R | summarize avg(n)")).toBeCloseTo(ns.reduce((a, b) => a + b, 0) / ns.length, 9);
  });

  it("sort by n asc is ordered with nulls first; sort is stable", () => {
    const sorted = q("R | sort by n asc | project n, id");
    const nulls = data.filter((r) => r[2] === null).length;
    expect(sorted.slice(0, nulls).every((r) => r[0] === null)).toBe(true);
    for (let i = nulls + 1; i < sorted.length; i++) {
      const [a, b] = [sorted[i - 1]!, sorted[i]!];
      expect(
        (a[0] as number) < (b[0] as number) || ((a[0] as number) === b[0] && (a[1] as number) < (b[1] as number)),
      ).toBe(true);
    }
    const top = q("R | top 5 by n desc | project id");
    expect(top).toEqual(q("R | sort by n desc | take 5 | project id"));
  });

  it("an inner self-join on k has sum(count_k^2) rows; innerunique has sum(count_k)", () => {
    const counts = new Map<string, number>();
    for (const r of data) counts.set(r[1] as string, (counts.get(r[1] as string) ?? 0) + 1);
    const squares = [...counts.values()].reduce((s, c) => s + c * c, 0);
    expect(scalar("R | join kind=inner (R) on k | count")).toBe(squares);
    expect(scalar("R | join kind=innerunique (R) on k | count")).toBe(data.length);
    expect(scalar("R | join kind=leftanti (R | where k != 'beta') on k | count")).toBe(counts.get("beta"));
  });

  it("mv-expand yields one row per element, one for null, none for empty arrays", () => {
    const expected = data.reduce((s, r) => s + (r[3] === null ? 1 : (r[3] as unknown[]).length), 0);
    expect(scalar("R | mv-expand tags | count")).toBe(expected);
  });

  it("the timespan bound equals a JS filter on TimeGenerated over [start, end)", () => {
    const span = { start: T0 + 86_400_000, end: T0 + 3 * 86_400_000 };
    const js = data.filter((r) => (r[0] as number) >= span.start && (r[0] as number) < span.end).length;
    expect(q("R | count", span)[0]![0]).toBe(js);
    expect(q("R | summarize count() by bin(TimeGenerated, 1d)", span).map((r) => r[0])).toEqual(
      expect.arrayContaining([span.start, span.start + 86_400_000]),
    );
    expect(q("R | summarize count() by bin(TimeGenerated, 1d)", span)).toHaveLength(2);
  });

  it("bin(TimeGenerated, 1h) floors every row to its hour", () => {
    const binned = q("R | summarize c = count() by h = bin(TimeGenerated, 1h)");
    const js = new Map<number, number>();
    for (const r of data) {
      const h = Math.floor((r[0] as number) / 3_600_000) * 3_600_000;
      js.set(h, (js.get(h) ?? 0) + 1);
    }
    expect(new Map(binned.map((r) => [r[0] as number, r[1] as number]))).toEqual(js);
  });
});
