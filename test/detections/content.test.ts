import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import agentEventSchema from "../../schemas/agent-security-event.schema.json" with { type: "json" };
import { analyzeKqlSync } from "../../src/kql/analyzer.js";
import { executeKql } from "../../src/kql/index.js";
import { detectionSource } from "../../src/telemetry/detections.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import { LOG_TABLES, STORED_FUNCTIONS } from "../../src/workspace/schemas.js";

const schemaColumns = Object.keys(agentEventSchema.properties).sort();

describe("SOC content: workbook and Azure templates", () => {
  it("the ARM template's table, DCR stream and the local workspace all have exactly the schema's columns", () => {
    const tpl = JSON.parse(readFileSync("examples/azure/agent-security-event.json", "utf8"));
    const table = tpl.resources.find(
      (r: { type: string }) => r.type === "Microsoft.OperationalInsights/workspaces/tables",
    );
    const dcr = tpl.resources.find((r: { type: string }) => r.type === "Microsoft.Insights/dataCollectionRules");
    const fn = tpl.resources.find(
      (r: { type: string }) => r.type === "Microsoft.OperationalInsights/workspaces/savedSearches",
    );
    const names = (cols: { name: string }[]) => cols.map((c) => c.name).sort();
    expect(names(table.properties.schema.columns)).toEqual(schemaColumns);
    expect(names(dcr.properties.streamDeclarations["Custom-AgentSecurityEvent_CL"].columns)).toEqual(schemaColumns);
    expect(names(LOG_TABLES.AgentSecurityEvent_CL!)).toEqual(schemaColumns);
    expect(table.properties.schema.columns).toEqual(
      LOG_TABLES.AgentSecurityEvent_CL!.map((c) => ({ name: c.name, type: c.type })),
    );
    expect(fn.properties).toMatchObject({
      functionAlias: "AgentSecurityEvent",
      query: STORED_FUNCTIONS.AgentSecurityEvent,
    });
  });

  it("every workbook tile's query analyses cleanly and runs on the engine", () => {
    const wb = JSON.parse(readFileSync("examples/workbooks/agent-security.workbook.json", "utf8"));
    const queries = wb.items
      .filter((i: { type: number }) => i.type === 3)
      .map((i: { content: { query: string; title: string } }) => i.content);
    expect(queries).toHaveLength(8);
    const now = Date.now();
    const ev = (o: Partial<AgentSecurityEvent>): AgentSecurityEvent => ({
      TimeGenerated: new Date(now - 60_000).toISOString(),
      EventId: randomUUID(),
      AgentId: "a1",
      TenantId: "t",
      EventType: "PolicyEvaluation",
      Action: "x",
      PolicyDecision: "BLOCK",
      ToolName: "sentinel_incidents_close",
      Severity: 3,
      SourceSystem: "s",
      ...o,
    });
    const events = [
      ev({}),
      ev({ EventType: "ToolInvocation" }),
      ev({ PolicyDecision: "CONSTRAIN", Severity: 2 }),
      ev({ PolicyDecision: "LOG", Severity: 3 }),
      ev({ AgentId: "a2", PolicyDecision: "ALLOW", Severity: 1 }),
      ev({ AgentId: "a3", PolicyDecision: "BLOCK", JobId: "hunt-nightly-1" }),
      ev({ AgentId: "a3", PolicyDecision: "BLOCK", JobId: "adhoc-1" }),
      ev({ AgentId: "a4", PolicyDecision: "CONSTRAIN", Severity: 2 }),
    ];
    const day = 86_400_000;
    const src = detectionSource(events, {
      allowlist: [
        { Agent: "a3", Tool: "*", JobPattern: "hunt-nightly-*", Expiry: new Date(now + day).toISOString() },
        { Agent: "a4", Tool: "*", JobPattern: "*", Expiry: new Date(now - day).toISOString() },
      ],
    });
    const schema = {
      tables: ["AgentSecurityEvent_CL", "Watchlist"].map((name) => ({ name, columns: LOG_TABLES[name]! })),
      functions: Object.entries(STORED_FUNCTIONS).map(([name, body]) => ({ name, body })),
    };
    const results = new Map<string, unknown[][]>();
    for (const q of queries) {
      expect(
        analyzeKqlSync(q.query, schema).diagnostics.filter((d) => d.severity === "Error"),
        q.title,
      ).toEqual([]);
      const r = executeKql(q.query, src, { now, unboundedTables: ["Watchlist"] });
      expect(r.rows.length, q.title).toBeGreaterThan(0);
      results.set(q.title, r.rows);
    }
    expect(results.get("Summary (last 24 hours)")![0]).toEqual([8, 4, 4, 5]);
    // Weighted: BLOCK 3, CONSTRAIN 1, LOG 0 — a1: 3 + 1; a3: 3 + 3; a4: 1.
    expect(results.get("Weighted violations by agent (BLOCK 3, CONSTRAIN 1)")).toEqual([
      ["a3", 6, 2, 0],
      ["a1", 4, 1, 1],
      ["a4", 1, 0, 1],
    ]);
    // Allowlisted: a3's nightly job is suppressed (its ad-hoc job is not); a4's entry has expired.
    const allowed = results.get("Allowlisted volume (AgentAllowlist watchlist)")!.map((r) => r.slice(0, 6));
    expect(allowed).toEqual([
      ["a3", "*", "hunt-nightly-*", "suppressed", 1, 1],
      ["a4", "*", "*", "entry expired", 1, 1],
    ]);
  });
});
