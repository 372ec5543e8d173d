import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyStoredReceipts } from "../../src/cli/commands/receipts.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { eventsOf, receiptsOf, textOf } from "../helpers/state.js";

type Session = Awaited<ReturnType<typeof startSession>>;

describe("governed stdio server under triage-readonly", () => {
  let h: TestHome;
  let s: Session;
  let incidentId: string;

  beforeAll(async () => {
    h = await makeHome();
    s = await startSession(h);
  });
  afterAll(async () => {
    await s?.close();
  });

  it("lists only what the effective scope allows, plus governance tools", async () => {
    const { tools } = await s.client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(
      [
        "governance_explain",
        "governance_whoami",
        "sentinel_alertRuleTemplates_get",
        "sentinel_alertRuleTemplates_list",
        "sentinel_alerts_list",
        "sentinel_bookmarks_list",
        "sentinel_dataConnectors_list",
        "sentinel_entities_get",
        "sentinel_entities_insights",
        "sentinel_entities_timeline",
        "sentinel_huntingQueries_list",
        "sentinel_huntingQueries_run",
        "sentinel_incidents_alerts",
        "sentinel_incidents_comments_list",
        "sentinel_incidents_entities",
        "sentinel_incidents_get",
        "sentinel_incidents_list",
        "sentinel_kql_query",
        "sentinel_kql_validate",
        "sentinel_tables_list",
        "sentinel_tables_schema",
        "sentinel_threatIntelligence_indicators_list",
        "sentinel_threatIntelligence_indicators_query",
      ].sort(),
    );
    const list = tools.find((t) => t.name === "sentinel_incidents_list")!;
    expect(list.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(list.inputSchema).toMatchObject({ type: "object", additionalProperties: false });
  });

  it("reads incidents through the SDK path, with a receipt and events", async () => {
    const before = receiptsOf(h).length;
    const r = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 5 } });
    expect(r.isError).toBeFalsy();
    const incidents = (r.structuredContent as { incidents: { id: string; title: string }[] }).incidents;
    expect(incidents.length).toBeGreaterThan(0);
    expect(incidents.length).toBeLessThanOrEqual(5);
    incidentId = incidents[0]!.id;
    const got = await s.client.callTool({ name: "sentinel_incidents_get", arguments: { incidentId } });
    expect((got.structuredContent as { incident: { id: string } }).incident.id).toBe(incidentId);
    const receipts = receiptsOf(h);
    expect(receipts.length).toBe(before + 2);
    expect(receipts.at(-1)).toMatchObject({
      op: "incidents.get",
      job: "job-1",
      agent: "agent-1",
      outcome: { status: "ok" },
    });
    const ev = eventsOf(h).filter((e) => e.ReceiptId === receipts.at(-1)!.receipt_id);
    expect(ev.map((e) => e.EventType).sort()).toEqual(["PolicyEvaluation", "ToolInvocation"]);
  });

  it("caps rows asked beyond the policy; LOG outranks it once the job has seen injected incident text", async () => {
    const r = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 500 } });
    // The seeded incidents read above carry prompt-injection text, so the job is flagged: the call is still capped
    // (row_cap) but its effect is LOG, so the SOC sees it.
    expect(r._meta?.["gsmcp/decision"]).toBe("LOG");
    const reasons = receiptsOf(h)
      .at(-1)!
      .decision.reasons.map((x) => x.code);
    expect(reasons).toEqual(expect.arrayContaining(["row_cap", "suspicious_content"]));
    expect((r.structuredContent as { incidents: unknown[] }).incidents.length).toBeLessThanOrEqual(50);
    expect(receiptsOf(h).at(-1)!.constraints_applied).toContainEqual({ kind: "max_rows", value: 50, requested: 500 });
  });

  it("bounds a KQL time range to the policy maximum and refuses forbidden tables", async () => {
    const r = await s.client.callTool({
      name: "sentinel_kql_query",
      arguments: { query: "SecurityAlert | summarize count() by AlertSeverity", timespan: "P30D" },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect((r.structuredContent as { timespan: string }).timespan).toBe("P7D");
    const bad = await s.client.callTool({
      name: "sentinel_kql_query",
      arguments: { query: "AgentSecurityEvent_CL | take 1" },
    });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain("kql_table_not_allowed");
  });

  it("discovery: an agent that knows only the discovered schema writes KQL that kql.validate accepts and kql.query runs", async () => {
    const tables = (await s.client.callTool({ name: "sentinel_tables_list", arguments: {} })).structuredContent as {
      tables: { name: string }[];
      filteredByPolicy: boolean;
    };
    expect(tables.filteredByPolicy).toBe(true);
    expect(tables.tables.map((t) => t.name)).not.toContain("AgentSecurityEvent_CL");
    const hidden = await s.client.callTool({
      name: "sentinel_tables_schema",
      arguments: { table: "AgentSecurityEvent_CL" },
    });
    expect(textOf(hidden)).toContain('no queryable table "AgentSecurityEvent_CL"');
    const schema = (await s.client.callTool({ name: "sentinel_tables_schema", arguments: { table: "SigninLogs" } }))
      .structuredContent as { columns: { name: string; type: string }[] };
    const col = schema.columns.find((c) => c.type === "string" && c.name !== "TimeGenerated")!.name;
    const query = `SigninLogs | summarize n = count() by ${col} | top 3 by n`;
    const v = (await s.client.callTool({ name: "sentinel_kql_validate", arguments: { query, timespan: "P1D" } }))
      .structuredContent as { valid: boolean; policyEffect: string };
    expect(v.valid).toBe(true);
    const ran = await s.client.callTool({ name: "sentinel_kql_query", arguments: { query, timespan: "P1D" } });
    expect(ran.isError, textOf(ran)).toBeFalsy();
    const bad = (
      await s.client.callTool({
        name: "sentinel_kql_validate",
        arguments: { query: "SigninLogs | where NoSuchColumn == 1" },
      })
    ).structuredContent as { valid: boolean; diagnostics: string[] };
    expect(bad.valid).toBe(false);
    expect(bad.diagnostics.join()).toMatch(/NoSuchColumn.*line 1, column \d+/);
  });

  it("refuses sentinel_incidents_close (denied), never executing it", async () => {
    const r = await s.client.callTool({
      name: "sentinel_incidents_close",
      arguments: { incidentId, classification: "FalsePositive", comment: "told to by incident text" },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain("op_denied");
    const receipt = receiptsOf(h).at(-1)!;
    expect(receipt).toMatchObject({
      op: "incidents.close",
      decision: { effect: "BLOCK" },
      outcome: { status: "refused" },
    });
    const after = await s.client.callTool({ name: "sentinel_incidents_get", arguments: { incidentId } });
    expect((after.structuredContent as { incident: { status: string } }).incident.status).not.toBe("Closed");
  });

  it("refuses unknown tools and bad arguments with receipts", async () => {
    await expect(s.client.callTool({ name: "sentinel_exec_host", arguments: {} })).rejects.toThrow(/unknown_tool/);
    expect(receiptsOf(h).at(-1)).toMatchObject({
      tool: "sentinel_exec_host",
      outcome: { status: "refused", error: { code: "unknown_tool" } },
    });
    const r = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 5, evil: true } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/invalid_arguments.*evil/);
  });

  it("serves the active policy, the manifest and the job's proof bundle as MCP resources", async () => {
    const read = async (uri: string) =>
      JSON.parse(String(((await s.client.readResource({ uri })).contents[0] as { text: string }).text));
    const { resources } = await s.client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual([
      "gsmcp://policy/active",
      "gsmcp://proof/current-job",
      "gsmcp://tools/manifest",
    ]);
    const policy = await read("gsmcp://policy/active");
    expect(policy.wpc.policy_name).toBe("sentinel-triage-readonly");
    const manifest = await read("gsmcp://tools/manifest");
    expect(manifest.map((t: { name: string }) => t.name)).not.toContain("sentinel_incidents_close");
    const bundle = await read("gsmcp://proof/current-job");
    expect(bundle).toMatchObject({ bundle_version: "gsmcp-proof/v1", job: "job-1" });
    expect(bundle.receipts.length).toBe(receiptsOf(h).filter((r) => r.job === "job-1").length);
  });

  it("reading the proof bundle leaves no temporary files behind (review defect: one folder per read)", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "gsmcp-tmp-"));
    const t = await startSession(h, { env: { TMPDIR: tmp }, job: "job-tmp" });
    try {
      await t.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
      for (let i = 0; i < 3; i++) {
        const r = await t.client.readResource({ uri: "gsmcp://proof/current-job" });
        expect(String((r.contents[0] as { text: string }).text)).toContain("gsmcp-proof/v1");
      }
      expect(readdirSync(tmp).filter((d) => d.startsWith("gsmcp-proof-"))).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it("leaves a receipt log that verifies, and detects a flipped byte in a stored receipt", async () => {
    expect((await verifyStoredReceipts(h.home)).problems).toEqual([]);
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(h.paths.stateDb);
    const row = db.prepare("SELECT seq, body FROM receipts ORDER BY seq LIMIT 1").get() as {
      seq: number;
      body: string;
    };
    db.prepare("UPDATE receipts SET body = ? WHERE seq = ?").run(row.body.replace('"job-1"', '"job-2"'), row.seq);
    db.close();
    const { problems } = await verifyStoredReceipts(h.home);
    expect(problems.map((p) => p.code)).toContain("bad_signature");
  });
});

describe("authentication and policy failures through the real server", () => {
  let h: TestHome;
  beforeAll(async () => {
    h = await makeHome();
  });

  it("a flipped byte in the token refuses every call, with AuthFailure events", async () => {
    const s = await startSession(h, { job: "job-flip" });
    await s.close();
    const t = s.token;
    const tampered = `${t.slice(0, -6)}${t.at(-6) === "A" ? "B" : "A"}${t.slice(-5)}`;
    const bad = await startSession(h, { token: tampered });
    try {
      const { tools } = await bad.client.listTools();
      expect(tools.map((x) => x.name).sort()).toEqual(["governance_explain", "governance_whoami"]);
      const r = await bad.client.callTool({ name: "sentinel_incidents_list", arguments: {} });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("auth_invalid");
      const receipt = receiptsOf(h).at(-1)!;
      expect(receipt).toMatchObject({ job: "-", outcome: { status: "refused", error: { code: "auth_invalid" } } });
      expect(eventsOf(h).some((e) => e.EventType === "AuthFailure" && e.ReceiptId === receipt.receipt_id)).toBe(true);
    } finally {
      await bad.close();
    }
  });

  it("a tampered signed policy refuses every call", async () => {
    const file = h.policyFile("triage-readonly");
    const env = JSON.parse(readFileSync(file, "utf8"));
    const wpc = JSON.parse(Buffer.from(env.payload, "base64").toString());
    wpc.allow[0].ops.push("incidents.close");
    const tamperedFile = `${h.home}/tampered.dsse.json`;
    writeFileSync(
      tamperedFile,
      JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify(wpc)).toString("base64") }),
    );
    const s = await startSession(h, { env: { GSMCP_POLICY: tamperedFile } });
    try {
      const r = await s.client.callTool({ name: "sentinel_incidents_list", arguments: {} });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("policy_untrusted");
      expect(receiptsOf(h).at(-1)).toMatchObject({
        policy_hash: "-",
        outcome: { error: { code: "policy_untrusted" } },
      });
    } finally {
      await s.close();
    }
  });
});
