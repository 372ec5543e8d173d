import { mkdtempSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toGovernanceError } from "../../src/governance/codes.js";
import { BackendError } from "../../src/sentinel/errors.js";
import { SdkBackend } from "../../src/sentinel/sdk-backend.js";
import { createLocalClients, initWorkspace, startWorkspace, type WorkspaceHandle } from "../../src/workspace/index.js";

// The real Azure SDK clients against the embedded workspace: what the backend does, checked endpoint by endpoint.
describe("embedded workspace through the Azure SDK clients", () => {
  let ws: WorkspaceHandle;
  let clients: ReturnType<typeof createLocalClients>;
  const rg = () => ws.ids.resourceGroup;
  const name = () => ws.ids.workspaceName;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-ws-"));
    await initWorkspace(dir, { seed: 3 });
    ws = await startWorkspace(dir, { port: 0 });
    clients = createLocalClients(ws);
  });
  afterAll(async () => {
    await ws?.close();
  });

  it("lists incidents with $filter, $orderby and $top, and gets one", async () => {
    const all = [];
    for await (const i of clients.securityInsights.incidents.list(rg(), name())) all.push(i);
    expect(all.length).toBe(20);
    const high = [];
    for await (const i of clients.securityInsights.incidents.list(rg(), name(), {
      filter: "properties/severity eq 'High'",
    }))
      high.push(i);
    expect(high.length).toBeGreaterThan(0);
    expect(high.every((i) => i.severity === "High")).toBe(true);
    const top = [];
    for await (const i of clients.securityInsights.incidents.list(rg(), name(), {
      top: 3,
      orderby: "properties/createdTimeUtc desc",
    }))
      top.push(i);
    expect(top).toHaveLength(3);
    expect(top[0]!.createdTimeUtc!.getTime()).toBeGreaterThanOrEqual(top[1]!.createdTimeUtc!.getTime());
    const one = await clients.securityInsights.incidents.get(rg(), name(), all[0]!.name!);
    expect(one).toMatchObject({ name: all[0]!.name, title: all[0]!.title, etag: all[0]!.etag });
    expect(one.id).toContain("/providers/Microsoft.SecurityInsights/incidents/");
  });

  it("returns an incident's alerts and entities, and ARM errors for unknown ids", async () => {
    const first = (await clients.securityInsights.incidents.list(rg(), name()).next()).value!;
    const alerts = await clients.securityInsights.incidents.listAlerts(rg(), name(), first.name!);
    expect(alerts.value!.length).toBe(first.additionalData!.alertsCount);
    expect(alerts.value![0]!.alertDisplayName).toBeTruthy();
    const entities = await clients.securityInsights.incidents.listEntities(rg(), name(), first.name!);
    // One entity per distinct account / host / IP the alerts name (entities are shared, not one per alert).
    expect(entities.entities!.length).toBeGreaterThan(0);
    expect(new Set(entities.entities!.map((e) => e.name)).size).toBe(entities.entities!.length);
    await expect(clients.securityInsights.incidents.get(rg(), name(), "no-such-incident")).rejects.toMatchObject({
      statusCode: 404,
      code: "NotFound",
    });
  });

  it("updates with optimistic concurrency (etag) and refuses a stale etag with 412", async () => {
    const inc = (
      await clients.securityInsights.incidents.list(rg(), name(), { filter: "properties/status eq 'New'" }).next()
    ).value!;
    const updated = await clients.securityInsights.incidents.createOrUpdate(rg(), name(), inc.name!, {
      ...inc,
      status: "Active",
    });
    expect(updated.status).toBe("Active");
    expect(updated.etag).not.toBe(inc.etag);
    await expect(
      clients.securityInsights.incidents.createOrUpdate(rg(), name(), inc.name!, {
        ...inc,
        status: "Closed",
        classification: "FalsePositive",
      }),
    ).rejects.toMatchObject({ statusCode: 412 });
  });

  it("incident comments, alert rules, automation rules, watchlists and items: list, get, createOrUpdate, delete", async () => {
    const si = clients.securityInsights;
    const inc = (await si.incidents.list(rg(), name()).next()).value!;
    const c = await si.incidentComments.createOrUpdate(rg(), name(), inc.name!, "c-1", { message: "first look" });
    expect(c).toMatchObject({ name: "c-1", message: "first look" });
    const comments = [];
    for await (const x of si.incidentComments.list(rg(), name(), inc.name!)) comments.push(x);
    expect(comments.map((x) => x.name)).toContain("c-1");
    await si.incidentComments.delete(rg(), name(), inc.name!, "c-1");
    await expect(si.incidentComments.get(rg(), name(), inc.name!, "c-1")).rejects.toMatchObject({ statusCode: 404 });

    const rules = [];
    for await (const r of si.alertRules.list(rg(), name())) rules.push(r);
    expect(rules.length).toBe(4);
    expect(rules.every((r) => r.kind === "Scheduled")).toBe(true);
    const created = await si.alertRules.createOrUpdate(rg(), name(), "r-new", {
      kind: "Scheduled",
      displayName: "t",
      enabled: false,
      query: "SigninLogs | take 1",
      queryFrequency: "PT1H",
      queryPeriod: "PT1H",
      severity: "Low",
      triggerOperator: "GreaterThan",
      triggerThreshold: 0,
      suppressionDuration: "PT1H",
      suppressionEnabled: false,
    } as never);
    expect(created).toMatchObject({ name: "r-new", kind: "Scheduled" });
    await expect(
      si.alertRules.createOrUpdate(rg(), name(), "r-bad", { kind: "Scheduled", displayName: "t" } as never),
    ).rejects.toMatchObject({ statusCode: 400 });
    await si.alertRules.delete(rg(), name(), "r-new");
    await expect(si.alertRules.get(rg(), name(), "r-new")).rejects.toMatchObject({ statusCode: 404 });

    const autos = [];
    for await (const a of si.automationRules.list(rg(), name())) autos.push(a);
    expect(autos).toHaveLength(2);
    const got = await si.automationRules.get(rg(), name(), autos[0]!.name!);
    const upd = await si.automationRules.createOrUpdate(rg(), name(), got.name!, {
      automationRuleToUpsert: { ...got, order: 7 },
    });
    expect(upd.order).toBe(7);

    const lists = [];
    for await (const w of si.watchlists.list(rg(), name())) lists.push(w);
    expect(lists.map((w) => w.watchlistAlias).sort()).toEqual(["AgentAllowlist", "HighValueAssets"]);
    await si.watchlistItems.createOrUpdate(rg(), name(), "HighValueAssets", "i-1", {
      itemsKeyValue: { Hostname: "SRV-X" },
    });
    const items = [];
    for await (const i of si.watchlistItems.list(rg(), name(), "HighValueAssets")) items.push(i);
    expect(items).toHaveLength(4);
    await si.watchlistItems.delete(rg(), name(), "HighValueAssets", "i-1");
    await expect(si.watchlistItems.get(rg(), name(), "HighValueAssets", "i-1")).rejects.toMatchObject({
      statusCode: 404,
    });
    await expect(si.watchlistItems.list(rg(), name(), "Nope").next()).rejects.toMatchObject({ statusCode: 404 });
  });

  it("pages incident lists with nextLink, which the SDK iterator follows", async () => {
    for (let i = 0; i < 45; i++) {
      await clients.securityInsights.incidents.createOrUpdate(rg(), name(), `bulk-${i}`, {
        title: `bulk ${i}`,
        severity: "Low",
        status: "New",
      });
    }
    const all = [];
    for await (const i of clients.securityInsights.incidents.list(rg(), name())) all.push(i);
    expect(all.length).toBe(65);
    const pages = [];
    for await (const page of clients.securityInsights.incidents.list(rg(), name()).byPage()) pages.push(page.length);
    expect(pages).toEqual([50, 15]);
  });

  it("runs KQL through LogsQueryClient with the timespan as a hard bound, and reports KQL errors", async () => {
    const all = await clients.logsQuery.queryWorkspace(ws.ids.workspaceId, "SigninLogs | count", { duration: "P30D" });
    const day = await clients.logsQuery.queryWorkspace(ws.ids.workspaceId, "SigninLogs | count", { duration: "PT6H" });
    if (all.status !== "Success" || day.status !== "Success") throw new Error("query failed");
    const total = all.tables[0]!.rows[0]![0] as number;
    const recent = day.tables[0]!.rows[0]![0] as number;
    expect(total).toBeGreaterThan(recent);
    expect(recent).toBeGreaterThan(38); // the planted spray (38 failures + 1 success) is within the last 6 hours
    const rows = await clients.logsQuery.queryWorkspace(
      ws.ids.workspaceId,
      "SigninLogs | where IPAddress == '203.0.113.45' | project TimeGenerated, ResultType | take 3",
      { duration: "P1D" },
    );
    if (rows.status !== "Success") throw new Error("query failed");
    expect(rows.tables[0]!.rows[0]![0]).toBeInstanceOf(Date);
    await expect(
      clients.logsQuery.queryWorkspace(ws.ids.workspaceId, "SigninLogs | where", { duration: "P1D" }),
    ).rejects.toMatchObject({ statusCode: 400 });
  });

  it("accepts Logs Ingestion uploads and serves them through the AgentSecurityEvent function", async () => {
    const now = new Date().toISOString();
    await clients.logsIngestion.upload(ws.ids.dcrImmutableId, ws.ids.streamName, [
      {
        TimeGenerated: now,
        AgentId: "agent-x",
        EventType: "ToolInvocation",
        PolicyDecision: "BLOCK",
        ToolName: "sentinel_incidents_close",
        Severity: 3,
      },
      {
        TimeGenerated: now,
        AgentId: "agent-x",
        EventType: "AuthFailure",
        PolicyDecision: "BLOCK",
        ToolName: "sentinel_incidents_list",
        Severity: 3,
      },
    ]);
    const r = await clients.logsQuery.queryWorkspace(
      ws.ids.workspaceId,
      "AgentSecurityEvent | where AgentId == 'agent-x' | summarize count() by EventType | sort by EventType asc",
      { duration: "PT1H" },
    );
    if (r.status !== "Success") throw new Error("query failed");
    expect(r.tables[0]!.rows).toEqual([
      ["AuthFailure", 1],
      ["ToolInvocation", 1],
    ]);
  });

  it("requires the bearer secret and retries a 429 with Retry-After", async () => {
    const post = (auth?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          `${ws.url}/v1/workspaces/${ws.ids.workspaceId}/query`,
          {
            method: "POST",
            ca: ws.caPem,
            headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
          },
          (res) => {
            let body = "";
            res.on("data", (d) => {
              body += d;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify({ query: "SigninLogs | take 1" }));
      });
    expect((await post()).status).toBe(401);
    const wrong = await post(`Bearer ${"x".repeat(ws.secret.length)}`);
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toMatchObject({ error: { code: "AuthenticationFailed" } });
    expect((await post(`Bearer ${ws.secret}`)).status).toBe(200);
    ws.setFaults({ status429: { count: 1, retryAfterSeconds: 1 } });
    const started = Date.now();
    const r = await clients.logsQuery.queryWorkspace(ws.ids.workspaceId, "SecurityAlert | count", { duration: "P1D" });
    expect(r.status).toBe("Success");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("every backend call maps SDK failures to a BackendError (backend_error for the pipeline), listing incidents included (review defect)", async () => {
    const lost = new SdkBackend(
      {
        subscriptionId: ws.ids.subscriptionId,
        resourceGroup: ws.ids.resourceGroup,
        workspaceName: "no-such-workspace",
        workspaceId: ws.ids.workspaceId,
      },
      clients,
    );
    for (const call of [() => lost.listIncidents({ top: 1 }), () => lost.getIncident("missing")]) {
      const raw = await call().catch((e: unknown) => e);
      expect(raw).toBeInstanceOf(BackendError);
      expect(raw).toMatchObject({ failure: "not_found", status: 404 });
      const err = toGovernanceError(raw);
      expect(err.code).toBe("backend_error");
      expect(err.details).toMatchObject({ status: 404 });
      // The SDK's error stays attached as the cause (for logs), and is not serialised into results.
      expect(((raw as BackendError).cause as { statusCode?: number }).statusCode).toBe(404);
      expect(JSON.stringify(err)).not.toContain("RestError");
    }
  });
});
