import { mkdtempSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initWorkspace, startWorkspace, type WorkspaceHandle } from "../../src/workspace/index.js";
import { validateBody } from "../../src/workspace/spec/validate.js";

const RULE = {
  kind: "Scheduled",
  properties: {
    displayName: "Spec rule",
    enabled: true,
    severity: "Medium",
    query: "SigninLogs | take 1",
    queryFrequency: "PT1H",
    queryPeriod: "PT1H",
    triggerOperator: "GreaterThan",
    triggerThreshold: 0,
    suppressionDuration: "PT5H",
    suppressionEnabled: false,
  },
};
const without = (field: string) => {
  const rest: Record<string, unknown> = { ...RULE.properties };
  delete rest[field];
  return { ...RULE, properties: rest };
};
const withProps = (p: Record<string, unknown>) => ({ ...RULE, properties: { ...RULE.properties, ...p } });

describe("spec validator (SDK mappers + spec facts)", () => {
  it("accepts a complete Scheduled rule and reports each missing required field", () => {
    expect(validateBody("AlertRule", RULE, "request")).toEqual([]);
    const problems = validateBody("AlertRule", { kind: "Scheduled", properties: { displayName: "x" } }, "request");
    expect(problems.map((p) => p.path).sort()).toEqual(
      [
        "properties.enabled",
        "properties.query",
        "properties.queryFrequency",
        "properties.queryPeriod",
        "properties.severity",
        "properties.suppressionDuration",
        "properties.suppressionEnabled",
        "properties.triggerOperator",
        "properties.triggerThreshold",
      ].sort(),
    );
  });

  it("checks enums (fixed and extensible), types, durations and the kind discriminator", () => {
    const one = (body: unknown) => validateBody("AlertRule", body, "request").map((p) => `${p.path}: ${p.message}`);
    expect(one(withProps({ triggerOperator: "Above" }))[0]).toMatch(/^properties.triggerOperator: "Above" is not one/);
    expect(one(withProps({ severity: "Critical" }))[0]).toMatch(/^properties.severity: "Critical" is not one/);
    expect(one(withProps({ triggerThreshold: "0" }))).toEqual([
      "properties.triggerThreshold: expected a number, got string",
    ]);
    expect(one(withProps({ queryFrequency: "1h" }))[0]).toMatch(/ISO 8601 duration/);
    expect(one(withProps({ tactics: ["InitialAccess", "Hacking"] }))).toEqual([
      expect.stringMatching(/^properties.tactics\[1\]: "Hacking" is not one of/),
    ]);
    expect(one({ ...RULE, kind: "Sometimes" })[0]).toMatch(/^kind: "Sometimes" is not one of .*Scheduled/);
    expect(one({ properties: RULE.properties })).toEqual(["kind: is required"]);
  });

  it("ignores read-only fields in requests but checks them, and unknown fields, in responses", () => {
    const body = withProps({ lastModifiedUtc: "not a date" });
    expect(validateBody("AlertRule", body, "request")).toEqual([]);
    const response = { id: "x", name: "x", type: "t", etag: '"e"', ...body, extra: 1 };
    expect(validateBody("AlertRule", response, "response").map((p) => p.path)).toEqual([
      "properties.lastModifiedUtc",
      "extra",
    ]);
  });

  it("walks nested composites, sequences and polymorphic elements", () => {
    const auto = {
      properties: {
        displayName: "a",
        order: 1,
        triggeringLogic: { isEnabled: true, triggersOn: "Incidents", triggersWhen: "Sometimes" },
        actions: [{ order: 1, actionType: "ModifyProperties", actionConfiguration: { severity: "Huge" } }],
      },
    };
    expect(
      validateBody("AutomationRule", auto, "request")
        .map((p) => p.path)
        .sort(),
    ).toEqual(["properties.actions[0].actionConfiguration.severity", "properties.triggeringLogic.triggersWhen"]);
  });
});

describe("embedded workspace refuses what Azure refuses", () => {
  let ws: WorkspaceHandle;
  const base = () =>
    `${ws.url}/subscriptions/${ws.ids.subscriptionId}/resourceGroups/${ws.ids.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${ws.ids.workspaceName}/providers/Microsoft.SecurityInsights`;
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; body: { error?: { code: string; message: string } } & Record<string, unknown> }>(
      (resolve, reject) => {
        const req = httpsRequest(
          `${base()}/${path}?api-version=2022-09-01-preview`,
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
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
          },
        );
        req.on("error", reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      },
    );

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-spec-req-"));
    await initWorkspace(dir, { seed: 3 });
    ws = await startWorkspace(dir, { port: 0 });
  });
  afterAll(async () => {
    await ws?.close();
  });

  it("refuses a Scheduled rule missing a required property with ARM's 400", async () => {
    for (const field of ["suppressionDuration", "suppressionEnabled", "severity", "query", "triggerThreshold"]) {
      const r = await call("PUT", "alertRules/00000000-0000-4000-8000-0000000000b1", without(field));
      expect(r.status, field).toBe(400);
      expect(r.body.error?.code).toBe("BadRequest");
      expect(r.body.error?.message).toContain(`properties.${field} is required`);
    }
    const ok = await call("PUT", "alertRules/00000000-0000-4000-8000-0000000000b1", RULE);
    expect(ok.status).toBe(201);
  });

  it("refuses wrong enums and types, and ignores read-only fields", async () => {
    const bad = await call("PUT", "alertRules/00000000-0000-4000-8000-0000000000b2", withProps({ severity: "Huge" }));
    expect(bad).toMatchObject({ status: 400, body: { error: { code: "BadRequest" } } });
    const type = await call("PUT", "incidents/00000000-0000-4000-8000-0000000000b3", {
      properties: { title: "t", severity: "High", status: "New", labels: "oops" },
    });
    expect(type.status).toBe(400);
    expect(type.body.error?.message).toContain("properties.labels: expected an array");
    const ro = await call("PUT", "incidents/00000000-0000-4000-8000-0000000000b3", {
      properties: { title: "t", severity: "High", status: "New", incidentNumber: "x", createdTimeUtc: "never" },
    });
    expect(ro.status).toBe(201);
    const props = ro.body.properties as Record<string, unknown>;
    expect(typeof props.incidentNumber).toBe("number");
    expect(Date.parse(String(props.createdTimeUtc))).not.toBeNaN();
    expect(props).toMatchObject({ providerName: "Azure Sentinel", owner: { ownerType: "Unknown" } });
    const wl = await call("PUT", "watchlists/NoProvider", { properties: { displayName: "x", itemsSearchKey: "k" } });
    expect(wl.body.error?.message).toContain("properties.provider is required");
  });

  it("answers unknown resource types with 404 InvalidResourceType and wrong methods with 405", async () => {
    const unknown = await call("GET", "noSuchThings");
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "InvalidResourceType" } } });
    expect(unknown.body.error?.message).toContain("could not be found in the namespace 'Microsoft.SecurityInsights'");
    const method = await call("POST", "alertRules");
    expect(method).toMatchObject({ status: 405, body: { error: { code: "MethodNotAllowed" } } });
    const ti = await call("PATCH", "threatIntelligence/main/indicators/x");
    expect(ti).toMatchObject({ status: 405, body: { error: { code: "MethodNotAllowed" } } });
  });
});
