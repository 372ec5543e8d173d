import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOOLS } from "../../src/tools/registry.js";
import { toolNameFor } from "../../src/tools/types.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";

type Session = Awaited<ReturnType<typeof startSession>>;

// The job's token carries a narrower scope than the policy allows (and the policy denies comments): prompts must
// follow the effective scope.
const TOKEN_OPS = [
  "incidents.get",
  "incidents.alerts",
  "kql.query",
  "kql.validate",
  "huntingQueries.list",
  "huntingQueries.run",
  "threatIntelligence.indicators.query",
  "bookmarks.create",
];

describe("MCP prompts over stdio, generated from the job's effective scope", () => {
  let h: TestHome;
  let s: Session;
  let policy: WorkPolicyContract;

  beforeAll(async () => {
    h = await makeHome();
    const base = examplePolicy("containment-with-approvals");
    const allOps = TOOLS.filter((t) => !t.op.startsWith("governance.")).map((t) => t.op);
    // Everything allowed except what deny removes; approvals from the example plus one for bookmarks.
    policy = {
      ...base,
      policy_name: "test-prompts",
      allow: [{ tool: "sentinel.api", ops: allOps as [string, ...string[]] }],
      deny: [{ tool: "sentinel.api", ops: ["incidents.comments.add"] }],
      // bookmarks.create gets an approval rule of its own, so the prompt must name that rule.
      approvals: [
        ...(base.approvals ?? []).map((a) => ({
          ...a,
          required_for: a.required_for.filter((o) => o !== "bookmarks.create") as [string, ...string[]],
        })),
        { name: "evidence-approval", required_for: ["bookmarks.create"], mode: "explicit" },
      ],
    };
    s = await startSession(h, { policyFile: signTestPolicy(h, policy), job: "job-prompts", ops: TOKEN_OPS });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("lists the workflows this job can start, with typed arguments", async () => {
    const { prompts } = await s.client.listPrompts();
    // review_analytics_rule needs analyticsRules.get, which the token does not carry.
    expect(prompts.map((p) => p.name)).toEqual(["triage_incident", "hunt_technique"]);
    expect(prompts[0]!.arguments).toEqual([expect.objectContaining({ name: "incidentId", required: true })]);
    expect(prompts[1]!.arguments).toEqual([
      expect.objectContaining({ name: "technique", required: true }),
      expect.objectContaining({ name: "timespan", required: false }),
    ]);
  });

  it("triage names only tools in the effective scope and states the policy's limits and approvals", async () => {
    const r = await s.client.getPrompt({ name: "triage_incident", arguments: { incidentId: "abc-123" } });
    const text = (r.messages[0]!.content as { text: string }).text;
    for (const op of [
      "incidents.get",
      "incidents.alerts",
      "kql.query",
      "huntingQueries.run",
      "threatIntelligence.indicators.query",
    ])
      expect(text, op).toContain(toolNameFor(op));
    // Allowed by policy but not by the token, or denied by policy: never named.
    for (const op of [
      "incidents.close",
      "incidents.update",
      "incidents.entities",
      "entities.timeline",
      "incidents.comments.list",
      "incidents.comments.add",
      "analyticsRules.disable",
    ])
      expect(text, op).not.toContain(toolNameFor(op));
    expect(text).toContain('"incidentId":"abc-123"');
    expect(text).toMatch(/step\(s\) of this workflow are outside this job's scope/);
    expect(text).toContain(`time window at most \`${policy.constraints!["kql.query"]!.kql!.max_timespan}\``);
    expect(text).toContain("forbidden: externaldata, workspace(), app(), cluster(), database(), union *");
    expect(text).toContain("`SigninLogs`");
    expect(text).toMatch(/sentinel_bookmarks_create` is a write that needs human approval \("evidence-approval"\)/);
    expect(text).toMatch(/untrusted data/);
    expect(text).not.toMatch(/bypass|ignore the policy/i);
  });

  it("hunt_technique uses the technique and timespan, and the KQL constraints of the policy", async () => {
    const r = await s.client.getPrompt({
      name: "hunt_technique",
      arguments: { technique: "T1110.003", timespan: "P3D" },
    });
    const text = (r.messages[0]!.content as { text: string }).text;
    expect(text).toContain('sentinel_huntingQueries_list` `{"technique":"T1110.003"}`');
    expect(text).toContain('"timespan":"P3D"');
    expect(text).toContain(toolNameFor("bookmarks.create"));
    expect(text).not.toContain(toolNameFor("bookmarks.list"));
    expect(text).not.toContain(toolNameFor("alerts.list"));
    const rows = policy.constraints?.["kql.query"]?.max_rows ?? policy.constraints?.["*"]?.max_rows;
    expect(text).toContain(`at most ${Math.min(rows!, policy.constraints?.["*"]?.max_rows ?? rows!)} rows per result`);
  });

  it("bad or missing arguments, unknown prompts and out-of-scope prompts are clear errors", async () => {
    await expect(
      s.client.getPrompt({ name: "triage_incident", arguments: { incidentId: "../../etc" } }),
    ).rejects.toThrow(/invalid_arguments: invalid arguments for prompt triage_incident: incidentId: incident id/);
    await expect(s.client.getPrompt({ name: "hunt_technique", arguments: {} })).rejects.toThrow(/technique/);
    await expect(
      s.client.getPrompt({ name: "hunt_technique", arguments: { technique: "T1110", extra: "x" } }),
    ).rejects.toThrow(/unknown field\(s\) "extra"/);
    await expect(s.client.getPrompt({ name: "nope", arguments: {} })).rejects.toThrow(/no prompt named "nope"/);
    await expect(s.client.getPrompt({ name: "review_analytics_rule", arguments: { ruleId: "r1" } })).rejects.toThrow(
      /op_out_of_token_scope: prompt "review_analytics_rule" is not available to this job/,
    );
  });

  it("an unauthenticated session lists no prompts and cannot get one", async () => {
    const bad = await startSession(h, { token: "not-a-token", job: "job-x" });
    try {
      expect((await bad.client.listPrompts()).prompts).toEqual([]);
      await expect(bad.client.getPrompt({ name: "triage_incident", arguments: { incidentId: "a" } })).rejects.toThrow(
        /auth_/,
      );
    } finally {
      await bad.close();
    }
  });
});
