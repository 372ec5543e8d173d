import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import agentEventSchema from "../../schemas/agent-security-event.schema.json" with { type: "json" };
import { analyzeKqlSync } from "../../src/kql/analyzer.js";
import { executeKql } from "../../src/kql/index.js";
import { eventsSource } from "../../src/telemetry/events-table.js";
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
    expect(queries).toHaveLength(5);
    const now = Date.now();
    const ev = (o: Partial<AgentSecurityEvent>): AgentSecurityEvent => ({
      TimeGenerated: new Date(now - 60_000).toISOString(),
      EventId: "e",
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
    const src = eventsSource([
      ev({}),
      ev({ EventType: "ToolInvocation" }),
      ev({ AgentId: "a2", PolicyDecision: "ALLOW", Severity: 1 }),
    ]);
    const schema = {
      tables: [{ name: "AgentSecurityEvent_CL", columns: LOG_TABLES.AgentSecurityEvent_CL! }],
      functions: [{ name: "AgentSecurityEvent", body: "AgentSecurityEvent_CL" }],
    };
    for (const q of queries) {
      expect(
        analyzeKqlSync(q.query, schema).diagnostics.filter((d) => d.severity === "Error"),
        q.title,
      ).toEqual([]);
      const r = executeKql(q.query, src, { now });
      expect(r.rows.length, q.title).toBeGreaterThan(0);
    }
    const summary = executeKql(queries[0].query, src, { now });
    expect(summary.rows[0]).toEqual([3, 2, 2, 2]);
  });
});
