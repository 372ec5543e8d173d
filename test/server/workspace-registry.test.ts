// The workspace registry through the real server (issue 19, done when): two embedded workspaces in two tenants, over
// the real SDK path. A policy that allows only A refuses B with a receipt and hides it from discovery; a job pinned to
// tenant A cannot reach tenant B; calls go to the workspace they name; a tenant-A job's bundle holds nothing of B.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { exportJob, verifyFile } from "../../src/cli/commands/proof.js";
import { issueCst } from "../../src/cli/commands/token.js";
import type { ProofBundle } from "../../src/receipts/bundle.js";
import { readRegistry, type WorkspaceEntry, writeRegistry } from "../../src/registry/workspaces.js";
import { openBackendFor } from "../../src/sentinel/open.js";
import { initWorkspace } from "../../src/workspace/index.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";
import { receiptsOf, textOf } from "../helpers/state.js";

const TENANT_A = "tenant-a-0000";
const TENANT_B = "tenant-b-0000";

describe("workspace registry: two workspaces in two tenants", () => {
  let h: TestHome;
  let A: WorkspaceEntry;
  let B: WorkspaceEntry;

  beforeAll(async () => {
    h = await makeHome();
    const base = readRegistry(h.paths, h.init.config).defaultEntry;
    A = { ...base, name: "ws-a", tenant: TENANT_A, default: true };
    const wsB = await initWorkspace(join(h.home, "ws-b"), { seed: 7 });
    B = {
      name: "ws-b",
      tenant: TENANT_B,
      backend: "local",
      subscription: wsB.ids.subscriptionId,
      resource_group: wsB.ids.resourceGroup,
      workspace_name: wsB.ids.workspaceName,
      workspace_id: wsB.ids.workspaceId,
      local_dir: "ws-b",
    };
    writeRegistry(h.paths, [A, B]);
  }, 120_000);

  const incidentIds = (r: unknown) =>
    ((r as { structuredContent?: { incidents?: { id: string }[] } }).structuredContent?.incidents ?? []).map(
      (i) => i.id,
    );

  it("calls go to the workspace they name: the two workspaces hold different incidents; unknown names are refused", async () => {
    const s = await startSession(h, { job: "job-both" });
    try {
      const a = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 5 } });
      const b = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 5, workspace: "ws-b" } });
      expect(a.isError, textOf(a)).toBeFalsy();
      expect(b.isError, textOf(b)).toBeFalsy();
      expect(incidentIds(a).length).toBeGreaterThan(0);
      expect(incidentIds(b).length).toBeGreaterThan(0);
      // Different seeds: different incidents (the embedded workspaces may reuse id patterns, not content).
      expect(JSON.stringify(a.structuredContent)).not.toEqual(JSON.stringify(b.structuredContent));
      const unknown = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { workspace: "nope" } });
      expect(textOf(unknown)).toMatch(/^workspace_unknown: no workspace named "nope"/);
    } finally {
      await s.close();
    }
    const receipts = receiptsOf(h).filter((r) => r.job === "job-both");
    expect(receipts.map((r) => [r.workspace, r.tenant])).toEqual([
      ["ws-a", TENANT_A],
      ["ws-b", TENANT_B],
      [undefined, undefined],
    ]);
    expect(receipts[2]!.outcome.error?.code).toBe("workspace_unknown");
  });

  it("a policy that allows only A refuses B with a receipt, and B is not in discovery", async () => {
    const wpc = examplePolicy("triage-readonly");
    const onlyA = signTestPolicy(h, {
      ...wpc,
      policy_name: "triage-only-a",
      constraints: { ...wpc.constraints, "*": { ...wpc.constraints?.["*"], workspaces: ["ws-a"] } },
    });
    const s = await startSession(h, { policyFile: onlyA, job: "job-only-a" });
    try {
      const who = await s.client.callTool({ name: "governance_whoami", arguments: {} });
      const seen = (who.structuredContent as { workspaces: { name: string }[] }).workspaces.map((w) => w.name);
      expect(seen).toEqual(["ws-a"]);
      const b = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { workspace: "ws-b" } });
      expect(textOf(b)).toMatch(/^workspace_not_allowed/);
    } finally {
      await s.close();
    }
    const refused = receiptsOf(h).find((r) => r.job === "job-only-a" && r.op === "incidents.list")!;
    expect(refused.decision.effect).toBe("BLOCK");
    expect(refused.outcome.error?.code).toBe("workspace_not_allowed");
  });

  it("a job pinned to tenant A cannot reach tenant B; its bundle verifies and holds nothing read from B", async () => {
    const policy = h.policyFile("triage-readonly");
    const { token } = await issueCst(h.home, { policy, job: "job-tenant-a", agent: "a", tenants: [TENANT_A] });
    const s = await startSession(h, { token, job: "job-tenant-a" });
    try {
      const who = await s.client.callTool({ name: "governance_whoami", arguments: {} });
      expect((who.structuredContent as { workspaces: { name: string }[] }).workspaces.map((w) => w.name)).toEqual([
        "ws-a",
      ]);
      const a = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 3 } });
      expect(a.isError, textOf(a)).toBeFalsy();
      const b = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { workspace: "ws-b" } });
      expect(textOf(b)).toMatch(/^tenant_not_allowed/);
      const q = await s.client.callTool({
        name: "sentinel_kql_query",
        arguments: { query: "SecurityIncident | take 1", workspace: "ws-b" },
      });
      expect(textOf(q)).toMatch(/^tenant_not_allowed/);
    } finally {
      await s.close();
    }
    const { file } = await exportJob(h.home, "job-tenant-a", {});
    const report = await verifyFile(file, h.paths.trust);
    expect(report.verdict, JSON.stringify(report.steps.filter((x) => !x.ok))).toBe("valid");
    const bundle = JSON.parse(readFileSync(file, "utf8")) as ProofBundle;
    // Every call that ran, ran in tenant A; the refused attempts record only the name the agent asked for.
    for (const r of bundle.receipts.filter((x) => x.outcome.status === "ok"))
      expect([r.workspace, r.tenant]).toEqual(["ws-a", TENANT_A]);
    expect(bundle.receipts.filter((r) => r.tenant === TENANT_B)).toEqual([]);
    // The token's pin is part of its scope hash.
    expect(bundle.tokens[0]!.claims).toMatchObject({ tenants: [TENANT_A] });
  });

  it("a policy can require every token to pin exactly one tenant", async () => {
    const wpc = examplePolicy("triage-readonly");
    const single = signTestPolicy(h, {
      ...wpc,
      policy_name: "triage-single-tenant",
      token_requirements: { ...wpc.token_requirements, require_single_tenant_pin: true },
    });
    const unpinned = await startSession(h, { policyFile: single, job: "job-unpinned" });
    try {
      const r = await unpinned.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
      expect(textOf(r)).toMatch(/^tenant_not_allowed: the policy requires tokens pinned to exactly one tenant/);
    } finally {
      await unpinned.close();
    }
    const { token } = await issueCst(h.home, { policy: single, job: "job-pinned", agent: "a", tenants: [TENANT_B] });
    const pinned = await startSession(h, { policyFile: single, token, job: "job-pinned" });
    try {
      const r = await pinned.client.callTool({
        name: "sentinel_incidents_list",
        arguments: { top: 1, workspace: "ws-b" },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
    } finally {
      await pinned.close();
    }
  });

  it("each tenant's events go to its own workspace's Logs Ingestion endpoint", async () => {
    const wpc = examplePolicy("triage-readonly");
    const toLa = signTestPolicy(h, { ...wpc, policy_name: "triage-events-per-tenant", telemetry: { sink: "local" } });
    const s = await startSession(h, { policyFile: toLa, job: "job-events-tenants" });
    try {
      for (const workspace of ["ws-a", "ws-b"]) {
        const r = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1, workspace } });
        expect(r.isError, textOf(r)).toBeFalsy();
      }
    } finally {
      await s.close(); // flushes the batched upload
    }
    const tenantsIn = async (entry: WorkspaceEntry) => {
      const b = await openBackendFor(h.paths, entry);
      try {
        const t = await b.queryLogs(
          'AgentSecurityEvent_CL | where JobId == "job-events-tenants" and EventType == "ToolInvocation" | project TenantId, Workspace',
          "P1D",
        );
        return t.rows.map((r) => `${r[0]}/${r[1]}`);
      } finally {
        await b.close();
      }
    };
    expect(await tenantsIn(A)).toEqual([`${TENANT_A}/ws-a`]);
    expect(await tenantsIn(B)).toEqual([`${TENANT_B}/ws-b`]);
  });

  it("token issue refuses pins the registry does not know", async () => {
    const policy = h.policyFile("triage-readonly");
    await expect(issueCst(h.home, { policy, job: "j", agent: "a", workspaces: ["ws-z"] })).rejects.toThrow(
      /--workspaces names ws-z/,
    );
    await expect(issueCst(h.home, { policy, job: "j", agent: "a", tenants: ["t-z"] })).rejects.toThrow(
      /--tenants names t-z/,
    );
  });
});
