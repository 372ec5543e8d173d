import { mkdtempSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  ActivityTimelineItem,
  AlertRuleTemplateUnion,
  IpEntity,
  OfficeDataConnector,
  ScheduledAlertRuleTemplate,
  SecurityAlertTimelineItem,
  ThreatIntelligenceFilteringCriteria,
  ThreatIntelligenceIndicatorModel,
} from "@azure/arm-securityinsight";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalClients, initWorkspace, startWorkspace, type WorkspaceHandle } from "../../src/workspace/index.js";

// Discovery endpoints (entities, timelines, insights, TI, alert rule templates, data connectors) through the real
// Azure SDK clients against the embedded workspace. Expected numbers are recomputed from the logs via KQL.

const ATTACKER_IP = "203.0.113.45";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HOUR = 3_600_000;

describe("discovery endpoints through the Azure SDK clients", () => {
  let ws: WorkspaceHandle;
  let clients: ReturnType<typeof createLocalClients>;
  const now = Date.now();
  const rg = () => ws.ids.resourceGroup;
  const name = () => ws.ids.workspaceName;
  const si = () => clients.securityInsights;
  let attack: { ip: string; account: string; host: string };

  const kqlCount = async (query: string, duration: string) => {
    const r = await clients.logsQuery.queryWorkspace(ws.ids.workspaceId, query, { duration });
    if (r.status !== "Success") throw new Error("query failed");
    return Number(r.tables[0]!.rows[0]![0]);
  };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-disc-"));
    await initWorkspace(dir, { seed: 5, now });
    ws = await startWorkspace(dir, { port: 0 });
    clients = createLocalClients(ws);
    const incidents = [];
    for await (const i of si().incidents.list(rg(), name())) incidents.push(i);
    const spray = incidents.find((i) => i.title?.startsWith("Password spray"))!;
    const res = await si().incidents.listEntities(rg(), name(), spray.name!);
    const byName = (n: string) => res.entities!.find((e) => (e as { friendlyName?: string }).friendlyName === n)!;
    attack = { ip: byName(ATTACKER_IP).name!, account: byName("adele.vance").name!, host: byName("WS-ADELE01").name! };
  });
  afterAll(async () => {
    await ws?.close();
  });

  it("incident entities are the workspace's entities, with stable ids, kinds and metadata", async () => {
    const incidents = [];
    for await (const i of si().incidents.list(rg(), name())) incidents.push(i);
    const spray = incidents.find((i) => i.title?.startsWith("Password spray"))!;
    const res = await si().incidents.listEntities(rg(), name(), spray.name!);
    expect(res.entities!.map((e) => e.kind).sort()).toEqual(["Account", "Host", "Ip"]);
    for (const e of res.entities!) expect(e.name).toMatch(GUID);
    expect(res.metaData).toEqual(
      expect.arrayContaining([
        { entityKind: "Account", count: 1 },
        { entityKind: "Ip", count: 1 },
        { entityKind: "Host", count: 1 },
      ]),
    );
    // An entity shared by several incidents has one id everywhere: one id per name, and some ids in several incidents.
    const idsByName = new Map<string, Set<string>>();
    const incidentsById = new Map<string, number>();
    for (const i of incidents) {
      const r = await si().incidents.listEntities(rg(), name(), i.name!);
      for (const e of r.entities!) {
        const n = (e as { friendlyName?: string }).friendlyName!;
        idsByName.set(n, (idsByName.get(n) ?? new Set()).add(e.name!));
        incidentsById.set(e.name!, (incidentsById.get(e.name!) ?? 0) + 1);
      }
    }
    expect([...idsByName.values()].every((s) => s.size === 1)).toBe(true);
    expect(Math.max(...incidentsById.values())).toBeGreaterThan(1);
    const all = [];
    for await (const e of si().entities.list(rg(), name())) all.push(e);
    expect(all.map((e) => e.name)).toEqual(expect.arrayContaining(Object.values(attack)));
  });

  it("entities.get returns kind-specific properties; an IP carries matching TI; unknown ids are 404", async () => {
    const account = await si().entities.get(rg(), name(), attack.account);
    expect(account).toMatchObject({ kind: "Account", accountName: "adele.vance", upnSuffix: "contoso.com" });
    const host = await si().entities.get(rg(), name(), attack.host);
    expect(host).toMatchObject({ kind: "Host", hostName: "WS-ADELE01", osFamily: "Windows" });
    const ip = (await si().entities.get(rg(), name(), attack.ip)) as IpEntity;
    expect(ip).toMatchObject({ kind: "Ip", address: ATTACKER_IP, location: { countryCode: "RU" } });
    expect(ip.threatIntelligence?.map((t) => t.threatName)).toEqual(["Password spray infrastructure"]);
    await expect(si().entities.get(rg(), name(), "00000000-0000-4000-a000-000000000000")).rejects.toMatchObject({
      statusCode: 404,
      code: "NotFound",
    });
  });

  it("an IP's timeline is computed from SigninLogs and SecurityAlert within startTime/endTime", async () => {
    const tl = await si().entitiesGetTimeline.list(rg(), name(), attack.ip, {
      startTime: new Date(now - 24 * HOUR),
      endTime: new Date(now),
      numberOfBucket: 24,
    });
    const failed = tl.value!.filter(
      (i): i is ActivityTimelineItem => i.kind === "Activity" && (i as ActivityTimelineItem).title.startsWith("Failed"),
    );
    const counted = failed.reduce((n, i) => n + Number(/^(\d+)/.exec(i.content)![1]), 0);
    expect(counted).toBe(
      await kqlCount(`SigninLogs | where IPAddress == '${ATTACKER_IP}' and ResultType != '0' | count`, "P1D"),
    );
    expect(counted).toBe(38);
    for (const i of failed) {
      expect(i.firstActivityTimeUTC.getTime()).toBeGreaterThanOrEqual(i.bucketStartTimeUTC.getTime());
      expect(i.lastActivityTimeUTC.getTime()).toBeLessThanOrEqual(i.bucketEndTimeUTC.getTime());
    }
    const alerts = tl.value!.filter((i) => i.kind === "SecurityAlert") as SecurityAlertTimelineItem[];
    expect(alerts.map((a) => a.displayName)).toEqual(
      expect.arrayContaining([
        "Password spray attack against multiple accounts",
        "Successful sign-in from a password spray source",
      ]),
    );
    expect(tl.metaData!.totalCount).toBe(tl.value!.length);
    // Newest first.
    const times = tl.value!.map((i) =>
      i.kind === "Activity"
        ? (i as ActivityTimelineItem).lastActivityTimeUTC
        : (i as SecurityAlertTimelineItem).timeGenerated,
    );
    expect([...times].sort((a, b) => b.getTime() - a.getTime())).toEqual(times);

    // A window before the attack has none of it.
    const before = await si().entitiesGetTimeline.list(rg(), name(), attack.ip, {
      startTime: new Date(now - 7 * 24 * HOUR),
      endTime: new Date(now - 12 * HOUR),
    });
    expect(before.value).toEqual([]);
    // kinds narrows what comes back.
    const onlyAlerts = await si().entitiesGetTimeline.list(rg(), name(), attack.ip, {
      kinds: ["SecurityAlert"],
      startTime: new Date(now - 24 * HOUR),
      endTime: new Date(now),
    });
    expect(onlyAlerts.value!.every((i) => i.kind === "SecurityAlert")).toBe(true);
    expect(onlyAlerts.metaData!.aggregations).toEqual([{ kind: "SecurityAlert", count: alerts.length }]);
  });

  it("a host's timeline shows the encoded PowerShell run; bad requests are ARM 400s", async () => {
    const tl = await si().entitiesGetTimeline.list(rg(), name(), attack.host, {
      kinds: ["Activity"],
      startTime: new Date(now - 24 * HOUR),
      endTime: new Date(now),
    });
    const ps = tl.value!.filter((i) => (i as ActivityTimelineItem).title === "Encoded PowerShell command lines");
    expect(ps).toHaveLength(1);
    expect((ps[0] as ActivityTimelineItem).content).toContain("adele.vance");
    await expect(
      si().entitiesGetTimeline.list(rg(), name(), attack.host, {
        startTime: new Date(now),
        endTime: new Date(now - HOUR),
      }),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("endTime must be after startTime") });
    await expect(
      si().entitiesGetTimeline.list(rg(), name(), attack.host, {
        kinds: ["Everything"],
        startTime: new Date(now - HOUR),
        endTime: new Date(now),
      }),
    ).rejects.toMatchObject({ statusCode: 400 });
    await expect(
      si().entitiesGetTimeline.list(rg(), name(), "no-such-entity", {
        startTime: new Date(now - HOUR),
        endTime: new Date(now),
      }),
    ).rejects.toMatchObject({ statusCode: 404 });
  });

  it("insights are computed from the logs, named by the entity's Insight queries, and filterable by id", async () => {
    const queries = await si().entities.queries(rg(), name(), attack.account, "Insight");
    const titles = new Map(
      queries.value!.map((q) => [q.name!, (q as { properties?: { displayName?: string } }).properties?.displayName]),
    );
    expect([...titles.values()]).toContain("Sign-ins by IP address");
    const res = await si().entities.getInsights(rg(), name(), attack.account, {
      startTime: new Date(now - 7 * 24 * HOUR),
      endTime: new Date(now),
    });
    expect(res.value!.map((v) => v.queryId).sort()).toEqual([...titles.keys()].sort());
    const byIp = res.value!.find((v) => titles.get(v.queryId!) === "Sign-ins by IP address")!;
    expect(byIp.tableQueryResults!.columns!.map((c) => c.name)).toEqual([
      "IPAddress",
      "Location",
      "Successes",
      "Failures",
    ]);
    const total = byIp.tableQueryResults!.rows!.reduce((n, r) => n + Number(r[2]) + Number(r[3]), 0);
    expect(total).toBe(
      await kqlCount("SigninLogs | where UserPrincipalName =~ 'adele.vance@contoso.com' | count", "P7D"),
    );
    const attackerRow = byIp.tableQueryResults!.rows!.find((r) => r[0] === ATTACKER_IP)!;
    expect(attackerRow.slice(1)).toEqual(["RU", "1", expect.any(String)]);

    const one = [...titles.keys()][0]!;
    const missing = "11111111-2222-4333-a444-555555555555";
    const filtered = await si().entities.getInsights(rg(), name(), attack.account, {
      startTime: new Date(now - HOUR),
      endTime: new Date(now),
      insightQueryIds: [one, missing],
      addDefaultExtendedTimeRange: true,
    });
    expect(filtered.value!.map((v) => v.queryId)).toEqual([one]);
    // Extended by the default range: a day before startTime.
    expect(filtered.value![0]!.queryTimeInterval!.startTime!.getTime()).toBe(now - HOUR - 24 * HOUR);
    expect(filtered.metaData!.errors).toEqual([expect.objectContaining({ kind: "Insight", queryId: missing })]);

    const ipInsights = await si().entities.getInsights(rg(), name(), attack.ip, {
      startTime: new Date(now - 24 * HOUR),
      endTime: new Date(now),
    });
    const ipQueries = await si().entities.queries(rg(), name(), attack.ip, "Insight");
    const tiQuery = ipQueries.value!.find(
      (q) => (q as { properties?: { displayName?: string } }).properties?.displayName === "Threat intelligence matches",
    )!;
    const tiRows = ipInsights.value!.find((v) => v.queryId === tiQuery.name)!.tableQueryResults!.rows;
    expect(tiRows).toEqual([
      [
        "Password spray infrastructure",
        "85",
        "malicious-activity, anonymization",
        "Microsoft Emerging Threat Feed",
        expect.any(String),
      ],
    ]);
    await expect(
      si().entities.getInsights(rg(), name(), attack.ip, { startTime: new Date(now), endTime: new Date(now - HOUR) }),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("endTime must be after startTime") });
    await expect(si().entities.queries(rg(), name(), attack.ip, "Expansion")).rejects.toMatchObject({
      statusCode: 400,
    });
  });

  it("threat intelligence: list pages, queryIndicators filters, sorts and pages through nextLink", async () => {
    const listed = [];
    for await (const i of si().threatIntelligenceIndicators.list(rg(), name())) listed.push(i);
    expect(listed).toHaveLength(10);
    expect(listed.every((i) => i.kind === "indicator")).toBe(true);
    const top3 = [];
    for await (const i of si().threatIntelligenceIndicators.list(rg(), name(), { top: 3 })) top3.push(i);
    expect(top3).toHaveLength(3);

    const query = async (c: ThreatIntelligenceFilteringCriteria) => {
      const out: ThreatIntelligenceIndicatorModel[] = [];
      for await (const i of si().threatIntelligenceIndicator.listQueryIndicators(rg(), name(), c))
        out.push(i as ThreatIntelligenceIndicatorModel);
      return out;
    };
    const spray = await query({ keywords: ["spray", "python"] });
    expect(spray.map((i) => i.pattern)).toEqual([`[ipv4-addr:value = '${ATTACKER_IP}']`]);
    expect((await query({ patternTypes: ["ipv4-addr"] })).length).toBe(3);
    expect((await query({ patternTypes: ["ipv4-addr"], includeDisabled: true })).length).toBe(4);
    const confident = await query({ minConfidence: 80, sortBy: [{ itemKey: "confidence", sortOrder: "descending" }] });
    expect(confident.map((i) => i.confidence)).toEqual([90, 85, 80]);
    const valid = await query({ minValidUntil: new Date(now).toISOString() });
    expect(valid.every((i) => Date.parse(i.validUntil!) >= now)).toBe(true);
    expect(valid.some((i) => i.displayName === "Mass scanner")).toBe(false);
    // Pages of 2 through the SDK's GET on nextLink give the same indicators as one page.
    const paged = await query({ pageSize: 2, sortBy: [{ itemKey: "displayName", sortOrder: "ascending" }] });
    const whole = await query({ pageSize: 100, sortBy: [{ itemKey: "displayName", sortOrder: "ascending" }] });
    expect(paged.map((i) => i.name)).toEqual(whole.map((i) => i.name));
    expect(paged).toHaveLength(9);

    await expect(query({ sortBy: [{ itemKey: "nope", sortOrder: "ascending" }] })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("sortBy.itemKey"),
    });
    await expect(query({ pageSize: 0 })).rejects.toMatchObject({ statusCode: 400 });
    await expect(query({ minValidUntil: "yesterday" })).rejects.toMatchObject({ statusCode: 400 });
  });

  it("alert rule templates: listed, got by id, and every query runs on the workspace", async () => {
    const templates: AlertRuleTemplateUnion[] = [];
    for await (const t of si().alertRuleTemplates.list(rg(), name())) templates.push(t);
    expect(templates).toHaveLength(6);
    for (const t of templates as ScheduledAlertRuleTemplate[]) {
      expect(t.kind).toBe("Scheduled");
      expect(t.requiredDataConnectors!.length).toBeGreaterThan(0);
      expect(t.tactics!.length).toBeGreaterThan(0);
      const got = (await si().alertRuleTemplates.get(rg(), name(), t.name!)) as ScheduledAlertRuleTemplate;
      expect(got).toMatchObject({ displayName: t.displayName, query: t.query, queryPeriod: t.queryPeriod });
      const r = await clients.logsQuery.queryWorkspace(ws.ids.workspaceId, t.query!, { duration: t.queryPeriod! });
      expect(r.status, t.displayName).toBe("Success");
    }
    const spray = (templates as ScheduledAlertRuleTemplate[]).find((t) => t.displayName!.startsWith("Password spray"))!;
    const r = await clients.logsQuery.queryWorkspace(ws.ids.workspaceId, spray.query!, { duration: "P1D" });
    expect(r.status === "Success" && r.tables[0]!.rows.map((row) => row[0])).toContain(ATTACKER_IP);
    await expect(si().alertRuleTemplates.get(rg(), name(), "no-such-template")).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it("data connectors list with their data type states", async () => {
    const connectors = [];
    for await (const c of si().dataConnectors.list(rg(), name())) connectors.push(c);
    expect(connectors.map((c) => c.kind).sort()).toEqual([
      "AzureActiveDirectory",
      "MicrosoftDefenderAdvancedThreatProtection",
      "Office365",
      "ThreatIntelligence",
    ]);
    const office = connectors.find((c) => c.kind === "Office365") as OfficeDataConnector;
    expect(office.dataTypes).toEqual({
      exchange: { state: "Enabled" },
      sharePoint: { state: "Enabled" },
      teams: { state: "Disabled" },
    });
    await expect(si().dataConnectors.get(rg(), name(), "nope")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("read-only discovery collections refuse writes with ARM 405 bodies", async () => {
    const prefix = `/subscriptions/${ws.ids.subscriptionId}/resourceGroups/${rg()}/providers/Microsoft.OperationalInsights/workspaces/${name()}/providers/Microsoft.SecurityInsights`;
    const send = (method: string, path: string, body?: unknown) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          `${ws.url}${prefix}${path}?api-version=2022-09-01-preview`,
          {
            method,
            ca: ws.caPem,
            headers: { "content-type": "application/json", authorization: `Bearer ${ws.secret}` },
          },
          (res) => {
            let text = "";
            res.on("data", (d) => {
              text += d;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on("error", reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    const put = await send("PUT", "/alertRuleTemplates/x", { kind: "Scheduled", properties: {} });
    expect(put.status).toBe(405);
    expect(JSON.parse(put.body)).toMatchObject({ error: { code: "MethodNotAllowed" } });
    expect((await send("DELETE", "/dataConnectors/x")).status).toBe(405);
    const bad = await send("POST", `/entities/${attack.ip}/getTimeline`, []);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.message).toContain("startTime");
    expect((await send("GET", "/threatIntelligence/other/indicators")).status).toBe(404);
  });
});
