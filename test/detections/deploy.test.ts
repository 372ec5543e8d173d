import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { executeKql } from "../../src/kql/engine.js";
import { BUILT_IN_ENTITY_TYPES, detectionSource, ruleProblems, runDetection } from "../../src/telemetry/detections.js";
import { handleArm } from "../../src/workspace/arm.js";
import { dataSource } from "../../src/workspace/logs.js";
import { LOG_TABLES, STORED_FUNCTIONS } from "../../src/workspace/schemas.js";
import { seedStore } from "../../src/workspace/seed.js";
import {
  agentAllowlistItems,
  recordWatchlistItemChange,
  watchlistItemRow,
} from "../../src/workspace/seed-watchlists.js";
import { type Mapper, sdkMappers } from "../../src/workspace/spec/mappers.js";
import { validateBody } from "../../src/workspace/spec/validate.js";
import { WorkspaceStore } from "../../src/workspace/store.js";
import { RULES } from "./harness.js";

// The rules as Sentinel deploys them: the generated ARM validated against @azure/arm-securityinsight's own
// ScheduledAlertRule model (types, enums, durations, and no field the model does not have), incident grouping by the
// custom details, built-in entity types only, and every custom detail / title parameter a column the query returns.

const arm = (file: string) =>
  JSON.parse(readFileSync(join("examples/detections/arm", file.replace(/\.yaml$/, ".json")), "utf8")).resources[0];

/** Keys of `value` that the SDK model (followed into nested models) does not define; flattened names as "a.b". */
function unknownFields(mapper: Mapper, value: unknown, path: string): string[] {
  const t = mapper.type;
  if (t.name === "Sequence" && Array.isArray(value) && t.element)
    return value.flatMap((v, i) => unknownFields(t.element!, v, `${path}[${i}]`));
  if (t.name !== "Composite" || typeof value !== "object" || value === null) return [];
  const model = t.modelProperties ? mapper : sdkMappers().models[t.className!];
  const props = model?.type.modelProperties ?? {};
  const out: string[] = [];
  const byWire = new Map(Object.values(props).map((p) => [p.serializedName ?? "", p]));
  const visit = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const wire = prefix ? `${prefix}.${k}` : k;
      const p = byWire.get(wire);
      if (p) out.push(...unknownFields(p, v, `${path}.${wire}`));
      else if ([...byWire.keys()].some((w) => w.startsWith(`${wire}.`)) && typeof v === "object" && v !== null)
        visit(v as Record<string, unknown>, wire);
      else out.push(`${path}.${wire}`);
    }
  };
  visit(value as Record<string, unknown>, "");
  return out;
}

describe("rules as Sentinel deploys them", () => {
  const scheduled = sdkMappers().discriminators["AlertRule.Scheduled"]!;

  it.each(RULES.map((r) => r.file))("%s: the ARM resource is a valid ScheduledAlertRule, field for field", (file) => {
    const res = arm(file);
    const body = { kind: res.kind, properties: res.properties };
    expect(validateBody("ScheduledAlertRule", body, "request")).toEqual([]);
    expect(unknownFields(scheduled, body, "")).toEqual([]);
  });

  it("the validation has teeth: a bad enum, duration or unknown field is reported", () => {
    const res = arm(RULES[0]!.file);
    const g = res.properties.incidentConfiguration.groupingConfiguration;
    const bad = {
      kind: "Scheduled",
      properties: {
        ...res.properties,
        incidentConfiguration: { createIncident: true, groupingConfiguration: { ...g, matchingMethod: "ByJob" } },
        customEntities: [],
      },
    };
    expect(validateBody("ScheduledAlertRule", bad, "request").map((p) => p.path)).toContain(
      "properties.incidentConfiguration.groupingConfiguration.matchingMethod",
    );
    expect(unknownFields(scheduled, bad, "")).toEqual([".properties.customEntities"]);
  });

  it("the field checks have teeth: custom entity types, grouping by unknown details, too many title parameters", () => {
    const r = RULES[0]!;
    expect(ruleProblems(r)).toEqual([]);
    const g = r.incidentConfiguration!.groupingConfiguration!;
    expect(
      ruleProblems({
        ...r,
        entityMappings: [{ entityType: "AIAgent", fieldMappings: [{ identifier: "Name", columnName: "AgentId" }] }],
        alertDetailsOverride: { alertDisplayNameFormat: "{{A}} {{B}} {{C}} {{D}}" },
        incidentConfiguration: {
          createIncident: true,
          groupingConfiguration: {
            ...g,
            matchingMethod: "AllEntities",
            groupByCustomDetails: ["Nope"],
            lookbackDuration: "P8D",
          },
        },
      }),
    ).toEqual([
      "entity type AIAgent is not a built-in type",
      "alertDisplayNameFormat: at most 3 parameters",
      "grouping lookbackDuration must be between 5m and 7d",
      "grouping by entities or custom details needs matchingMethod Selected",
      "groupByCustomDetails names Nope, not a custom detail",
      "groupByEntities names Account, not a mapped entity",
    ]);
  });

  it.each(RULES.map((r) => r.file))(
    "%s: incidents grouped by JobId and PolicyHash, built-in entities, details and titles from result columns",
    (file) => {
      const r = RULES.find((x) => x.file === file)!;
      const p = arm(file).properties;
      expect(p.eventGroupingSettings.aggregationKind).toBe("AlertPerResult");
      expect(p.incidentConfiguration.groupingConfiguration).toMatchObject({
        enabled: true,
        matchingMethod: "Selected",
        groupByCustomDetails: ["JobId", "PolicyHash"],
      });
      expect(Object.keys(p.customDetails).sort()).toEqual(["JobId", "PolicyHash", "Tools"]);
      for (const m of p.entityMappings) expect(BUILT_IN_ENTITY_TYPES).toContain(m.entityType);
      expect(p.entityMappings[0]).toEqual({
        entityType: "Account",
        fieldMappings: [{ identifier: "Name", columnName: "AgentId" }],
      });
      // The query's output columns (the engine, on an empty workspace) carry every mapped and referenced column.
      const cols = runDetection(r, detectionSource([]), Date.now()).result.columns.map((c) => c.name);
      const referenced = [
        ...Object.values(p.customDetails as Record<string, string>),
        ...p.entityMappings.flatMap((m: { fieldMappings: { columnName: string }[] }) =>
          m.fieldMappings.map((f) => f.columnName),
        ),
        ...[p.alertDetailsOverride.alertDisplayNameFormat, p.alertDetailsOverride.alertDescriptionFormat].flatMap(
          (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!),
        ),
        ...(p.alertDetailsOverride.alertSeverityColumnName ? [p.alertDetailsOverride.alertSeverityColumnName] : []),
      ];
      for (const c of referenced) expect(cols, `${file}: ${c}`).toContain(c);
    },
  );
});

describe("the AgentAllowlist watchlist template and the embedded workspace", () => {
  const dir = mkdtempSync(join(tmpdir(), "gsmcp-allowlist-"));
  const store = new WorkspaceStore(join(dir, "w.db"));
  const NOW = Date.parse("2026-06-01T12:00:00Z");
  seedStore(store, { seed: 7, size: "demo", now: NOW });

  it("the ARM watchlist is a valid Watchlist, its CSV is the shipped CSV, and its columns are the seeded items'", () => {
    const tpl = JSON.parse(readFileSync("examples/watchlists/AgentAllowlist.json", "utf8"));
    const props = tpl.resources[0].properties;
    expect(validateBody("Watchlist", { properties: props }, "request")).toEqual([]);
    const csv = readFileSync("examples/watchlists/AgentAllowlist.csv", "utf8");
    expect(props.rawContent).toBe(csv);
    const header = csv.split("\n")[0]!.split(",");
    expect(header).toContain(props.itemsSearchKey);
    for (const item of agentAllowlistItems(NOW)) expect(Object.keys(item)).toEqual(header);
  });

  it("the embedded Log Analytics answers _GetWatchlist('AgentAllowlist') from the seeded watchlist items", () => {
    const r = executeKql(
      "_GetWatchlist('AgentAllowlist') | project SearchKey, Agent = tostring(WatchlistItem.Agent), Expiry = todatetime(WatchlistItem.Expiry), _DTItemId, LastUpdatedTimeUTC | sort by SearchKey asc",
      dataSource(store),
      { now: NOW, timespan: { start: NOW - 86_400_000, end: NOW + 1 } },
    );
    const items = agentAllowlistItems(NOW).sort((a, b) => a.Agent!.localeCompare(b.Agent!));
    expect(r.rows.map((x) => [x[0], x[1], x[2]])).toEqual(items.map((i) => [i.Agent, i.Agent, Date.parse(i.Expiry!)]));
    expect(r.rows.every((x) => typeof x[3] === "string" && typeof x[4] === "number")).toBe(true);
    expect(r.reads).toEqual({ tables: ["Watchlist"], storedFunctions: ["_GetWatchlist"] });
    // The other watchlist is not mixed in.
    const hv = executeKql("_GetWatchlist('HighValueAssets') | count", dataSource(store), { now: NOW });
    expect(hv.rows).toEqual([[3]]);
  });

  it("an item written or deleted through the ARM API is what _GetWatchlist returns next", () => {
    const ids = {
      subscriptionId: "s",
      resourceGroup: "rg",
      workspaceName: "w",
      workspaceId: "id",
      dcrImmutableId: "dcr",
      streamName: "Custom-AgentSecurityEvent_CL",
    };
    const arm = (method: string, item: string, body?: unknown) =>
      handleArm(store, ids, {
        method,
        segments: ["watchlists", "AgentAllowlist", "watchlistItems", item],
        query: new URLSearchParams("api-version=2023-02-01"),
        body,
        headers: {},
        baseUrl: "https://local",
      });
    const agents = () =>
      executeKql("_GetWatchlist('AgentAllowlist') | project SearchKey | sort by SearchKey asc", dataSource(store), {
        now: Date.now() + 1000,
      }).rows.map((r) => r[0]);
    const before = agents();
    const fields = { Agent: "new-bot", Tool: "*", JobPattern: "*", Expiry: "2027-01-01T00:00:00Z", Reason: "r" };
    expect(arm("PUT", "item-new", { properties: { itemsKeyValue: fields } }).status).toBeLessThan(300);
    expect(agents()).toEqual([...before, "new-bot"].sort());
    expect(arm("DELETE", "item-new").status).toBeLessThan(300);
    expect(agents()).toEqual(before);
  });

  it("changes of one item within the same millisecond keep their order (the newest row wins in _GetWatchlist)", () => {
    const agents = () =>
      executeKql("_GetWatchlist('AgentAllowlist') | project SearchKey | sort by SearchKey asc", dataSource(store), {
        now: Date.now() + 1000,
      }).rows.map((r) => r[0]);
    const before = agents();
    const at = Date.now();
    const fields = { Agent: "same-ms-bot", Tool: "*", JobPattern: "*", Expiry: "2027-01-01T00:00:00Z", Reason: "r" };
    store.put("watchlistItems", "item-same-ms", { properties: { itemsKeyValue: fields } }, '"e"', "AgentAllowlist");
    recordWatchlistItemChange(store, "AgentAllowlist", "item-same-ms", "PUT", at);
    expect(agents()).toEqual([...before, "same-ms-bot"].sort());
    store.delete("watchlistItems", "item-same-ms", "AgentAllowlist");
    recordWatchlistItemChange(store, "AgentAllowlist", "item-same-ms", "DELETE", at);
    expect(agents()).toEqual(before);
  });

  it("_GetWatchlist returns each item's newest version and leaves deleted items out", () => {
    const row = (id: string, agent: string, updated: number, status?: string) =>
      watchlistItemRow({
        alias: "AgentAllowlist",
        id,
        item: { Agent: agent },
        searchKey: agent,
        updated,
        ...(status ? { status } : {}),
      });
    const t = {
      name: "Watchlist",
      columns: LOG_TABLES.Watchlist!,
      rows: [
        row("a", "old", 1),
        row("a", "new", 2, "Update"),
        row("b", "gone", 1),
        row("b", "gone", 3, "Delete"),
        row("c", "kept", 1),
      ],
    };
    const src = {
      table: (n: string) => (n === "Watchlist" ? t : undefined),
      tableNames: () => ["Watchlist"],
      storedFunction: (n: string) => STORED_FUNCTIONS[n],
    };
    const r = executeKql("_GetWatchlist('AgentAllowlist') | project SearchKey | sort by SearchKey asc", src);
    expect(r.rows).toEqual([["kept"], ["new"]]);
    expect(executeKql("_GetWatchlist('Other') | count", src).rows).toEqual([[0]]);
  });

  afterAll(() => store.close());
});
