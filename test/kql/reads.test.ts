import { describe, expect, it } from "vitest";
import { executeKql } from "../../src/kql/engine.js";
import type { KqlError } from "../../src/kql/errors.js";
import { analyzeKqlSync, makeSource, SCHEMA } from "./ls-oracle.js";

// executeKql reports every table and stored function it actually read, recorded where it reads them.

const reads = (q: string) => executeKql(q, makeSource()).reads;

describe("reads", () => {
  it.each([
    ["AuditLogs | take 1", ["AuditLogs"], []],
    ["table('SigninLogs') | count", ["SigninLogs"], []],
    ["union AuditLogs, (Heartbeat | take 1) | count", ["AuditLogs", "Heartbeat"], []],
    ["AuditLogs | union SigninLogs, AuditLogs | count", ["AuditLogs", "SigninLogs"], []],
    ["AuditLogs | join kind=inner (SigninLogs | take 1) on Id | count", ["AuditLogs", "SigninLogs"], []],
    ["AuditLogs | lookup (Heartbeat | project Id, X = 1) on Id | count", ["AuditLogs", "Heartbeat"], []],
    ["let T = SigninLogs; let U = T; U | count", ["SigninLogs"], []],
    ["let T = (Heartbeat | where Id > 0); print 1", [], []],
    ["AgentEvent | count", ["AgentEvent_CL"], ["AgentEvent"]],
    ["AgentEvent() | union Alerts2 | count", ["AgentEvent_CL", "SecurityAlert"], ["AgentEvent", "Alerts2"]],
    ["(AuditLogs | where Id > 5) | count", ["AuditLogs"], []],
    ["print x = 1", [], []],
  ])("%s", (q, tables, fns) => {
    const r = reads(q);
    expect(r).toEqual({ tables, storedFunctions: fns });
    // And each is something the policy analyzer reports for the same query.
    const a = analyzeKqlSync(q, SCHEMA);
    for (const t of r.tables) expect(a.tables).toContain(t);
    for (const f of r.storedFunctions) expect(a.functions).toContain(f);
  });

  it("records a table even when a later operator fails", () => {
    // The thrown query reports nothing, but reading happens at the scan; this pins that reads are per run.
    expect(() => reads("AuditLogs | where NoSuchColumn == 1")).toThrow();
    expect(reads("Heartbeat | take 0")).toEqual({ tables: ["Heartbeat"], storedFunctions: [] });
  });

  it.each([
    // Found by the differential fuzzer: the engine read tables the language service does not bind.
    ["SecurityAlert() | count", "is a table, not a function"],
    ["table('Alerts2') | count", "does not exist"],
    ["let L0 = () { materialize(SecurityAlert) }; AuditLogs | count", "does not exist"],
    // Keywords are case-sensitive in Kusto: `LET` is a name, so the analyzer binds nothing after it.
    ["LET x = SecurityAlert; x", ""],
    ["AuditLogs | UNION SecurityAlert", ""],
    // `matches regex` is one keyword spelled with one space; with a comment or two spaces the analyzer sees neither
    // the operator nor anything after it (CI fuzz run, seed 1592598566, query #34803).
    ["Heartbeat | where Name matches //c\rregex 'a' | union SigninLogs", "single space"],
    ["Heartbeat | where Name matches  regex 'a' | union SigninLogs", "single space"],
  ])("regression (fuzzer): %s is refused", (q, msg) => {
    let info: KqlError["info"] | undefined;
    try {
      executeKql(q, makeSource());
    } catch (e) {
      info = (e as KqlError).info;
    }
    expect(info?.message).toContain(msg);
  });
});
