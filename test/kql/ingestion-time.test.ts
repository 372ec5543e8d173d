import { describe, expect, it } from "vitest";
import { analyzeKqlSync, type KqlSchema } from "../../src/kql/analyzer.js";
import { executeKql } from "../../src/kql/index.js";
import type { KqlDataSource, KqlTable } from "../../src/kql/types.js";

// ingestion_time(): the hidden per-row time the workspace stamps when a row is ingested. Stored rows hand it over as
// one element after their columns; it is never a column, and it is null for rows not read from a table.

const S = 1000;
const T0 = Date.parse("2026-03-01T12:00:00Z");
const cols = [
  { name: "TimeGenerated", type: "datetime" as const },
  { name: "Name", type: "string" as const },
  { name: "N", type: "long" as const },
];
function table(): KqlTable {
  // TimeGenerated is the sender's clock; the trailing element is the workspace's receive time. Row "c" arrived
  // first though its sender dated it last; row "d" was stored without an ingestion time.
  return {
    name: "Events",
    columns: cols,
    rows: [
      [T0, "a", 1, T0 + 20 * S],
      [T0 + 1 * S, "b", 2, T0 + 30 * S],
      [T0 + 2 * S, "c", 3, T0 + 10 * S],
      [T0 + 3 * S, "d", 4],
    ],
  };
}
const source = (t: KqlTable): KqlDataSource => ({
  table: (n) => (n === "Events" ? t : undefined),
  tableNames: () => ["Events"],
});
const iso = (ms: number) => ms;
// Result rows still carry the hidden property (a symbol, which toEqual compares): compare their values only.
const values = (r: { rows: unknown[][] }) => r.rows.map((x) => [...x]);

describe("ingestion_time()", () => {
  it("returns each row's hidden ingestion time, and orders by it (not by TimeGenerated)", () => {
    const t = table();
    const r = executeKql(
      "Events | extend Ingested = ingestion_time() | order by Ingested asc | project Name, Ingested",
      source(t),
    );
    expect(r.columns).toEqual([
      { name: "Name", type: "string" },
      { name: "Ingested", type: "datetime" },
    ]);
    // Kusto sorts nulls first in ascending order.
    expect(values(r)).toEqual([
      ["d", null],
      ["c", iso(T0 + 10 * S)],
      ["a", iso(T0 + 20 * S)],
      ["b", iso(T0 + 30 * S)],
    ]);
  });

  it("is not a column: *, getschema-like listings, project-away and results never show it", () => {
    const src = source(table());
    const all = executeKql("Events", src);
    expect(all.columns).toEqual(cols);
    for (const row of all.rows) expect(row).toHaveLength(3);
    const away = executeKql("Events | project-away N | where Name == 'a'", src);
    expect(values(away)).toEqual([[T0, "a"]]);
    expect(executeKql("Events | extend x = 1 | project-away x | take 1", src).rows[0]).toHaveLength(3);
  });

  it("survives operators that keep or copy the row, and is null after ones that build new rows", () => {
    const src = source(table());
    const one = (q: string) => values(executeKql(q, src));
    const a = T0 + 20 * S;
    expect(one("Events | where Name == 'a' | project t = ingestion_time()")).toEqual([[a]]);
    expect(one("Events | project Name | where Name == 'a' | extend t = ingestion_time() | project t")).toEqual([[a]]);
    expect(one("Events | extend k = 1 | extend t = ingestion_time() | where Name == 'a' | project t")).toEqual([[a]]);
    expect(one("Events | project-rename Who = Name | where Who == 'a' | project ingestion_time()")).toEqual([[a]]);
    expect(one("Events | project-keep Name | where Name == 'a' | project ingestion_time()")).toEqual([[a]]);
    expect(one("Events | parse Name with x | where Name == 'a' | project ingestion_time()")).toEqual([[a]]);
    expect(one("Events | top 1 by ingestion_time() desc | project Name")).toEqual([["b"]]);
    expect(one("union Events, (print z = 1) | where Name == 'a' | project ingestion_time()")).toEqual([[a]]);
    expect(
      one("Events | where Name == 'a' | extend d = dynamic([1, 2]) | mv-expand d | project ingestion_time()"),
    ).toEqual([[a], [a]]);
    // summarize builds new rows: no record, no ingestion time (min() over the table's rows is the way to get one).
    expect(one("Events | summarize by Name | extend t = ingestion_time() | where Name == 'a' | project t")).toEqual([
      [null],
    ]);
    expect(one("Events | summarize t = min(ingestion_time())")).toEqual([[T0 + 10 * S]]);
    expect(one("Events | count | extend t = ingestion_time() | project t")).toEqual([[null]]);
    expect(one("Events | join kind=inner (Events) on Name | where Name == 'a' | project ingestion_time()")).toEqual([
      [null],
    ]);
    // Outside a table: null.
    expect(one("print t = ingestion_time()")).toEqual([[null]]);
    expect(one("datatable(x:long)[1] | project ingestion_time()")).toEqual([[null]]);
    expect(one("let x = ingestion_time(); print x")).toEqual([[null]]);
  });

  it("takes no arguments", () => {
    expect(() => executeKql("Events | extend t = ingestion_time(1)", source(table()))).toThrow(/takes 0 argument/);
  });

  it("adopts rows appended after the first scan", () => {
    const t = table();
    const src = source(t);
    expect(executeKql("Events | count", src).rows).toEqual([[4]]);
    t.rows.push([T0 + 4 * S, "e", 5, T0 + 40 * S]);
    expect(values(executeKql("Events | where Name == 'e' | project N, ingestion_time()", src))).toEqual([
      [5, T0 + 40 * S],
    ]);
    expect(t.rows.every((r) => r.length === 3)).toBe(true);
  });

  it("is accepted by the policy analyzer and derives from no column (not masked by lineage)", () => {
    const schema: KqlSchema = { tables: [{ name: "Events", columns: cols }] };
    const a = analyzeKqlSync(
      "Events | extend Ingested = ingestion_time() | order by Ingested asc | project Name, Ingested",
      schema,
      { redactedColumns: ["Events.Name"] },
    );
    expect(a.ok, JSON.stringify(a)).toBe(true);
    expect(a.lineage?.masked).toEqual(["Name"]);
    const b = analyzeKqlSync("Events | summarize t = max(ingestion_time()) by Name | project t", schema, {
      redactedColumns: ["Events.Name"],
    });
    expect(b.ok).toBe(true);
    expect(b.lineage?.masked).toEqual([]);
  });
});
