import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FullOperationResponse, OperationOptions } from "@azure/core-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalClients, initWorkspace, startWorkspace, type WorkspaceHandle } from "../../src/workspace/index.js";
import { describeProblems, validateBody } from "../../src/workspace/spec/validate.js";

// Every operation the embedded workspace serves for Microsoft.SecurityInsights, called through the real SDK client;
// every response body validated against the SDK's own model for that operation (plus the spec facts of facts.ts).
describe("embedded workspace responses against the 2022-09-01-preview models", () => {
  let ws: WorkspaceHandle;
  let clients: ReturnType<typeof createLocalClients>;
  const results: { op: string; model: string; problems: string }[] = [];
  const rg = () => ws.ids.resourceGroup;
  const name = () => ws.ids.workspaceName;
  const si = () => clients.securityInsights;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-spec-"));
    await initWorkspace(dir, { seed: 3 });
    ws = await startWorkspace(dir, { port: 0 });
    clients = createLocalClients(ws);
  });
  afterAll(async () => {
    await ws?.close();
  });

  /** Runs `call` with a response hook; validates every body it received (each page of a list) against `model`. */
  async function check<T>(op: string, model: string, call: (o: OperationOptions) => Promise<T>): Promise<T> {
    const bodies: string[] = [];
    const onResponse = (raw: FullOperationResponse) => {
      if (raw.bodyAsText) bodies.push(raw.bodyAsText);
    };
    const out = await call({ onResponse });
    expect(bodies.length, `${op} returned a body`).toBeGreaterThan(0);
    for (const text of bodies) {
      const problems = validateBody(model, JSON.parse(text), "response");
      results.push({ op, model, problems: describeProblems(problems) });
    }
    return out;
  }
  async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const x of it) out.push(x);
    return out;
  }

  it("validates every served operation's response", async () => {
    // Incidents, their alerts, entities and comments.
    const incidents = await check("incidents.list", "IncidentList", (o) => all(si().incidents.list(rg(), name(), o)));
    const inc = incidents[0]!;
    const got = await check("incidents.get", "Incident", (o) => si().incidents.get(rg(), name(), inc.name!, o));
    await check("incidents.createOrUpdate", "Incident", (o) =>
      si().incidents.createOrUpdate(rg(), name(), inc.name!, { ...got, status: "Active" }, o),
    );
    await check("incidents.listAlerts", "IncidentAlertList", (o) =>
      si().incidents.listAlerts(rg(), name(), inc.name!, o),
    );
    await check("incidents.listEntities", "IncidentEntitiesResponse", (o) =>
      si().incidents.listEntities(rg(), name(), inc.name!, o),
    );
    await check("incidentComments.createOrUpdate", "IncidentComment", (o) =>
      si().incidentComments.createOrUpdate(rg(), name(), inc.name!, "c-spec-1", { message: "checked" }, o),
    );
    await check("incidentComments.list", "IncidentCommentList", (o) =>
      all(si().incidentComments.list(rg(), name(), inc.name!, o)),
    );
    await check("incidentComments.get", "IncidentComment", (o) =>
      si().incidentComments.get(rg(), name(), inc.name!, "c-spec-1", o),
    );

    const bookmarkId = `${got.id!.split("/incidents/")[0]}/bookmarks/00000000-0000-4000-8000-00000000a006`;
    await check("incidentRelations.createOrUpdate", "Relation", (o) =>
      si().incidentRelations.createOrUpdate(rg(), name(), inc.name!, "rel-1", { relatedResourceId: bookmarkId }, o),
    );
    await check("incidentRelations.list", "RelationList", (o) =>
      all(si().incidentRelations.list(rg(), name(), inc.name!, o)),
    );
    const rel = await check("incidentRelations.get", "Relation", (o) =>
      si().incidentRelations.get(rg(), name(), inc.name!, "rel-1", o),
    );
    expect(rel).toMatchObject({ relatedResourceName: "00000000-0000-4000-8000-00000000a006" });
    await si().incidentRelations.delete(rg(), name(), inc.name!, "rel-1");

    // Analytics and automation rules.
    const rules = await check("alertRules.list", "AlertRulesList", (o) => all(si().alertRules.list(rg(), name(), o)));
    const rule = await check("alertRules.get", "AlertRule", (o) =>
      si().alertRules.get(rg(), name(), rules[0]!.name!, o),
    );
    await check("alertRules.createOrUpdate", "AlertRule", (o) =>
      si().alertRules.createOrUpdate(rg(), name(), "00000000-0000-4000-8000-00000000a001", { ...rule }, o),
    );
    const autos = await check("automationRules.list", "AutomationRulesList", (o) =>
      all(si().automationRules.list(rg(), name(), o)),
    );
    const auto = await check("automationRules.get", "AutomationRule", (o) =>
      si().automationRules.get(rg(), name(), autos[0]!.name!, o),
    );
    await check("automationRules.createOrUpdate", "AutomationRule", (o) =>
      si().automationRules.createOrUpdate(rg(), name(), "00000000-0000-4000-8000-00000000a002", {
        ...o,
        automationRuleToUpsert: { ...auto, displayName: "copy" },
      }),
    );

    // Watchlists and their items.
    const lists = await check("watchlists.list", "WatchlistList", (o) => all(si().watchlists.list(rg(), name(), o)));
    const wl = await check("watchlists.get", "Watchlist", (o) => si().watchlists.get(rg(), name(), lists[0]!.name!, o));
    await check("watchlists.createOrUpdate", "Watchlist", (o) =>
      si().watchlists.createOrUpdate(
        rg(),
        name(),
        "SpecCheck",
        { displayName: "Spec check", provider: "tests", source: "Local file", itemsSearchKey: "Hostname" },
        o,
      ),
    );
    const items = await check("watchlistItems.list", "WatchlistItemList", (o) =>
      all(si().watchlistItems.list(rg(), name(), wl.name!, o)),
    );
    await check("watchlistItems.get", "WatchlistItem", (o) =>
      si().watchlistItems.get(rg(), name(), wl.name!, items[0]!.name!, o),
    );
    await check("watchlistItems.createOrUpdate", "WatchlistItem", (o) =>
      si().watchlistItems.createOrUpdate(
        rg(),
        name(),
        wl.name!,
        "00000000-0000-4000-8000-00000000a003",
        { itemsKeyValue: { Hostname: "SRV-NEW" } },
        o,
      ),
    );

    // Hunting bookmarks.
    await check("bookmarks.createOrUpdate", "Bookmark", (o) =>
      si().bookmarks.createOrUpdate(
        rg(),
        name(),
        "00000000-0000-4000-8000-00000000a004",
        { displayName: "b", query: "SigninLogs | take 1" },
        o,
      ),
    );
    await check("bookmarks.list", "BookmarkList", (o) => all(si().bookmarks.list(rg(), name(), o)));
    await check("bookmarks.get", "Bookmark", (o) =>
      si().bookmarks.get(rg(), name(), "00000000-0000-4000-8000-00000000a004", o),
    );

    // Discovery: templates, connectors, entities, threat intelligence.
    const templates = await check("alertRuleTemplates.list", "AlertRuleTemplatesList", (o) =>
      all(si().alertRuleTemplates.list(rg(), name(), o)),
    );
    await check("alertRuleTemplates.get", "AlertRuleTemplate", (o) =>
      si().alertRuleTemplates.get(rg(), name(), templates[0]!.name!, o),
    );
    const connectors = await check("dataConnectors.list", "DataConnectorList", (o) =>
      all(si().dataConnectors.list(rg(), name(), o)),
    );
    await check("dataConnectors.get", "DataConnector", (o) =>
      si().dataConnectors.get(rg(), name(), connectors[0]!.name!, o),
    );
    const entities = await check("entities.list", "EntityList", (o) => all(si().entities.list(rg(), name(), o)));
    const now = Date.now();
    for (const e of entities.filter((x, i, xs) => xs.findIndex((y) => y.kind === x.kind) === i)) {
      await check(`entities.get (${e.kind})`, "Entity", (o) => si().entities.get(rg(), name(), e.name!, o));
      await check(`entities.getInsights (${e.kind})`, "EntityGetInsightsResponse", (o) =>
        si().entities.getInsights(
          rg(),
          name(),
          e.name!,
          { startTime: new Date(now - 7 * 86_400_000), endTime: new Date(now) },
          o,
        ),
      );
      await check(`entities.queries (${e.kind})`, "GetQueriesResponse", (o) =>
        si().entities.queries(rg(), name(), e.name!, "Insight", o),
      );
      await check(`entitiesGetTimeline.list (${e.kind})`, "EntityTimelineResponse", (o) =>
        si().entitiesGetTimeline.list(
          rg(),
          name(),
          e.name!,
          { startTime: new Date(now - 7 * 86_400_000), endTime: new Date(now) },
          o,
        ),
      );
    }
    const indicators = await check("threatIntelligenceIndicators.list", "ThreatIntelligenceInformationList", (o) =>
      all(si().threatIntelligenceIndicators.list(rg(), name(), o)),
    );
    await check("threatIntelligenceIndicator.get", "ThreatIntelligenceInformation", (o) =>
      si().threatIntelligenceIndicator.get(rg(), name(), indicators[0]!.name!, o),
    );
    await check("threatIntelligenceIndicator.listQueryIndicators", "ThreatIntelligenceInformationList", (o) =>
      all(si().threatIntelligenceIndicator.listQueryIndicators(rg(), name(), { pageSize: 5 }, o)),
    );

    const created = await check("threatIntelligenceIndicator.createIndicator", "ThreatIntelligenceInformation", (o) =>
      si().threatIntelligenceIndicator.createIndicator(
        rg(),
        name(),
        {
          kind: "indicator",
          displayName: "spec check",
          pattern: "[ipv4-addr:value = '203.0.113.77']",
          patternType: "ipv4-addr",
          source: "tests",
          threatIntelligenceTags: ["one"],
          validFrom: new Date(now).toISOString(),
        },
        o,
      ),
    );
    await check("threatIntelligenceIndicator.create", "ThreatIntelligenceInformation", (o) =>
      si().threatIntelligenceIndicator.create(
        rg(),
        name(),
        "00000000-0000-4000-8000-00000000a005",
        { kind: "indicator", displayName: "by name", pattern: "[domain-name:value = 'spec.example']", source: "t" },
        o,
      ),
    );
    await si().threatIntelligenceIndicator.appendTags(rg(), name(), created.name!, { threatIntelligenceTags: ["two"] });
    const replaced = await check("threatIntelligenceIndicator.replaceTags", "ThreatIntelligenceInformation", (o) =>
      si().threatIntelligenceIndicator.replaceTags(
        rg(),
        name(),
        created.name!,
        { kind: "indicator", threatIntelligenceTags: ["three"] },
        o,
      ),
    );
    expect((replaced as { threatIntelligenceTags?: string[] }).threatIntelligenceTags).toEqual(["three"]);
    await si().threatIntelligenceIndicator.delete(rg(), name(), created.name!);
    await expect(si().threatIntelligenceIndicator.get(rg(), name(), created.name!)).rejects.toMatchObject({
      statusCode: 404,
    });

    const bad = results.filter((r) => r.problems);
    console.log(`spec validation: ${results.length - bad.length} of ${results.length} responses validate`);
    for (const r of bad) console.log(`  ${r.op} (${r.model}): ${r.problems.slice(0, 600)}`);
    expect(bad.map((r) => `${r.op}: ${r.problems}`)).toEqual([]);
  });
});
