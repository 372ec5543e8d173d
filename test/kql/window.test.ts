import { describe, expect, it } from "vitest";
import { analyzeKqlSync } from "../../src/kql/analyzer.js";
import { executeKql, KqlError } from "../../src/kql/index.js";
import type { KqlDataSource, KqlTable, KqlValue } from "../../src/kql/types.js";
import { mulberry32 } from "../../src/workspace/seed-determinism.js";
import { SCHEMA as LINEAGE_SCHEMA, REDACTED, run } from "./lineage-harness.js";

// Window functions (prev, next, row_number, row_cumsum) and the serialize operator, as Kusto defines them: a
// differential property against a plain-JS model over random tables, the serialization rules operator by operator,
// the language service as the oracle for what parses, and lineage: a value read from another row keeps its column's
// redaction.

const prng = mulberry32;

const T: KqlTable = {
  name: "T",
  columns: [
    { name: "TimeGenerated", type: "datetime" },
    { name: "Agent", type: "string" },
    { name: "N", type: "long" },
  ],
  rows: [],
};
const source = (rows: KqlValue[][]): KqlDataSource => {
  const t = { ...T, rows };
  return { table: (n) => (n === "T" ? t : undefined), tableNames: () => ["T"] };
};
const SCHEMA = { tables: [{ name: "T", columns: T.columns }] };

describe("window functions: a differential property against a plain model", () => {
  it("prev/next with offsets and defaults, row_number with restart, row_cumsum with restart, over random tables", () => {
    const rand = prng(2026);
    let checked = 0;
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(rand() * 12);
      const rows: KqlValue[][] = Array.from({ length: n }, () => [
        1_700_000_000_000 + Math.floor(rand() * 10) * 1000,
        ["a", "b", "c"][Math.floor(rand() * 3)]!,
        rand() < 0.1 ? null : Math.floor(rand() * 20) - 5,
      ]);
      const off = Math.floor(rand() * 4);
      const q = [
        "T",
        "| sort by Agent asc, TimeGenerated asc, N asc",
        `| extend P = prev(N, ${off}, -1), X = next(Agent, ${off}), R = row_number(7, Agent != prev(Agent)),`,
        "    C = row_cumsum(N, Agent != prev(Agent)), PN = prev(N)",
        "| extend PP = prev(PN)",
        "| project Agent, TimeGenerated, N, P, X, R, C, PP",
      ].join("\n");
      expect(analyzeKqlSync(q, SCHEMA).diagnostics.filter((d) => d.severity === "Error")).toEqual([]);
      const got = executeKql(q, source(rows)).rows;
      // The model: sort (nulls first ascending, as Kusto), then read neighbours by index.
      const cmp = (a: KqlValue, b: KqlValue) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);
      const s = [...rows].sort((x, y) => cmp(x[1]!, y[1]!) || cmp(x[0]!, y[0]!) || cmp(x[2]!, y[2]!));
      let r = 0;
      let c = 0;
      const want = s.map((row, i) => {
        const restart = i === 0 || s[i - 1]![1] !== row[1];
        r = restart ? 7 : r + 1;
        c = (restart ? 0 : c) + ((row[2] as number | null) ?? 0);
        return [
          row[1],
          row[0],
          row[2],
          i - off >= 0 ? s[i - off]![2] : -1,
          i + off < s.length ? s[i + off]![1] : null,
          r,
          c,
          i >= 2 ? s[i - 2]![2] : null,
        ];
      });
      expect(got).toEqual(want);
      checked += n;
    }
    expect(checked).toBeGreaterThan(500);
  });

  it("a running value is right when the operator skips rows (short-circuit in where)", () => {
    const rows = [1, 2, 3, 4, 5].map((i) => [i * 1000, "a", i]);
    const q = "T | sort by N asc | where N > 2 and row_number() > 3 | project N";
    expect(executeKql(q, source(rows)).rows).toEqual([[4], [5]]);
  });

  it("a column computed by an earlier operator (or, in this engine, an earlier item of the same extend) is read on the other row", () => {
    const rows = [1, 2, 3].map((i) => [i * 1000, "a", i]);
    const q = "T | sort by N asc | extend D = N * 10 | extend E = prev(D), F = next(D, 1, 0) | project N, D, E, F";
    expect(analyzeKqlSync(q, SCHEMA).ok).toBe(true);
    expect(executeKql(q, source(rows)).rows).toEqual(
      executeKql(
        "T | sort by N asc | extend D = N * 10, E = prev(D), F = next(D, 1, 0) | project N, D, E, F",
        source(rows),
      ).rows,
    );
    expect(executeKql(q, source(rows)).rows).toEqual([
      [1, 10, null, 20],
      [2, 20, 10, 30],
      [3, 30, 20, 0],
    ]);
  });

  it("serialize with columns, and range, are serialized; a nested subquery starts unserialized", () => {
    const rows = [3, 1, 2].map((i) => [i * 1000, "a", i]);
    expect(
      executeKql("T | serialize rn = row_number(), p = prev(N)", source(rows)).rows.map((r) => r.slice(2)),
    ).toEqual([
      [3, 1, null],
      [1, 2, 3],
      [2, 3, 1],
    ]);
    expect(executeKql("range x from 1 to 3 step 1 | extend c = row_cumsum(x)", source([])).rows).toEqual([
      [1, 1],
      [2, 3],
      [3, 6],
    ]);
    expect(() =>
      executeKql("T | sort by N asc | extend x = toscalar(T | extend p = prev(N) | count)", source(rows)),
    ).toThrow(/serialized/);
  });
});

describe("serialization, operator by operator (learn.microsoft.com serialize-operator)", () => {
  const rows = [1, 2, 3].map((i) => [i * 1000, "a", i]);
  const ok = (q: string) => executeKql(q, source(rows));
  const fails = (q: string) => {
    let err: unknown;
    try {
      executeKql(q, source(rows));
    } catch (e) {
      err = e;
    }
    expect(err, q).toBeInstanceOf(KqlError);
    expect((err as KqlError).info).toMatchObject({ code: "semantic" });
    expect((err as KqlError).message).toMatch(/cannot be invoked in current context.*serialized/);
  };
  const serializing = ["sort by N asc", "order by N desc", "top 2 by N", "serialize"];
  const preserving = [
    "where N > 0",
    "extend Y = 1",
    "project N, Agent",
    "take 5",
    "project-away Agent",
    "project-rename M = N | extend N = M",
    "parse Agent with A:string",
  ];
  const breaking = [
    "summarize N = count() by Agent",
    "distinct N",
    "join kind=inner (T) on N",
    "mv-expand D = pack_array(N)",
    "count | extend N = Count",
    "make-series N = count() on TimeGenerated step 1s | extend N = 1",
    "lookup (T | project N, Z = 1) on N",
  ];

  it("a table, and every operator that breaks serialization, refuse window functions", () => {
    fails("T | extend p = prev(N)");
    fails("T | where row_number() > 1");
    fails("T | project row_cumsum(N)");
    for (const s of serializing) for (const b of breaking) fails(`T | ${s} | ${b} | extend p = prev(N)`);
  });

  it("sort, top, serialize and range serialize; the others keep what their input had", () => {
    for (const s of serializing) for (const p of preserving) ok(`T | ${s} | ${p} | extend p = prev(N)`);
    for (const p of preserving) fails(`T | ${p} | extend p = prev(N)`);
  });

  it("the language service accepts every one of these queries (it does not check serialization: the docs do)", () => {
    for (const s of serializing)
      for (const p of [...preserving, ...breaking]) {
        const q = `T | ${s} | ${p} | extend p = prev(N)`;
        const ls = analyzeKqlSync(q, SCHEMA).diagnostics.filter((d) => d.severity === "Error");
        expect(ls, q).toEqual([]);
      }
    // And rejects what we reject: arity, and prev/next of an expression rather than a column.
    for (const q of [
      "T | serialize | extend p = prev()",
      "T | serialize | extend p = prev(N, 1, 0, 2)",
      "T | serialize | extend c = row_cumsum()",
      "T | serialize | extend p = prev(N + 1)",
      "T | serialize | extend p = next(strlen(Agent))",
    ]) {
      expect(analyzeKqlSync(q, SCHEMA).ok, q).toBe(false);
      expect(() => executeKql(q, source(rows)), q).toThrow(KqlError);
    }
  });
});

describe("lineage: a value read from another row keeps its column's redaction", () => {
  const sources = ["UserPrincipalName", "strlen(UserPrincipalName)", "tostring(split(UserPrincipalName, '@')[0])"];
  // S: the source bound to a column first (prev/next read columns); C: the source itself.
  const placements = [
    "SigninLogs | extend S = C | sort by Id asc | extend x = prev(S) | project x",
    "SigninLogs | extend S = C | sort by Id asc | extend x = next(S, 1) | project Id, x",
    "SigninLogs | extend S = C | serialize x = prev(S, 2) | project x",
    "SigninLogs | extend S = C | order by Id desc | project y = next(S)",
    "SigninLogs | sort by Id asc | extend x = row_cumsum(strlen(tostring(C))) | project x",
    "SigninLogs | extend S = tostring(C) | sort by Id asc | extend x = row_number(1, prev(S) != S) | project x",
    "SigninLogs | extend S = C | top 3 by Id | extend x = prev(S) | summarize make_list(x)",
    "SigninLogs | extend S = tostring(C) | sort by Id asc | extend x = strcat(prev(S), '|', next(S)) | project x",
    "SigninLogs | extend S = C | sort by Id asc | extend P = prev(S) | extend Q = next(P) | project Q",
  ];

  it("every placement over every source is masked or refused, never leaked; unmasked, the same queries leak", () => {
    let leaked = 0;
    let queries = 0;
    for (const p of placements)
      for (const s of sources) {
        const q = p.replace(/\bC\b/g, s);
        expect(analyzeKqlSync(q, LINEAGE_SCHEMA, { redactedColumns: REDACTED }).ok, q).toBe(true);
        const r = run(q); // throws if the secret survives masking
        expect(["masked-clean", "refused"], q).toContain(r.outcome);
        if (r.ungovernedLeaked) leaked++;
        queries++;
      }
    expect(leaked).toBeGreaterThan(queries / 4);
  });

  it("precisely: only the columns read from a redacted column are masked (serialize lists like extend)", () => {
    const masked = (q: string) => analyzeKqlSync(q, LINEAGE_SCHEMA, { redactedColumns: REDACTED }).lineage?.masked;
    expect(masked("SigninLogs | serialize a = prev(UserPrincipalName), b = Id | project a, b")).toEqual(["a"]);
    expect(
      masked("SigninLogs | sort by Id asc | extend a = next(UserPrincipalName), b = row_number() | project a, b"),
    ).toEqual(["a"]);
    expect(masked("SigninLogs | serialize a = Id, b = row_cumsum(strlen(UserPrincipalName)) | project a, b")).toEqual([
      "b",
    ]);
  });
});
