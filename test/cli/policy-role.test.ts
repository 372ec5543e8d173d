import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { operationFact } from "../../src/rbac/operations.js";
import type { RoleDefinitionFile } from "../../src/rbac/role.js";
import { runCli } from "../helpers/cli.js";
import { examplePolicy } from "../helpers/policy.js";

const SUB = "11111111-2222-3333-4444-555555555555";
const SCOPE = `/subscriptions/${SUB}/resourceGroups/rg-sentinel`;

describe("gsmcp policy role FILE", () => {
  const dir = mkdtempSync(join(tmpdir(), "gsmcp-role-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the role definitions; the scope comes from --scope or AZURE_SUBSCRIPTION_ID/AZURE_RESOURCE_GROUP", async () => {
    const r = await runCli([
      "policy",
      "role",
      "examples/policies/containment-with-approvals.wpc.json",
      "--scope",
      SCOPE,
    ]);
    expect(r.code, r.out).toBe(0);
    const roles = JSON.parse(r.stdout) as RoleDefinitionFile[];
    expect(roles.map((x) => x.Name)).toEqual([
      "gsmcp sentinel-containment-with-approvals (read)",
      "gsmcp sentinel-containment-with-approvals (write)",
    ]);
    for (const role of roles) {
      expect(role.AssignableScopes).toEqual([SCOPE]);
      for (const a of role.Actions) expect(operationFact(a), a).toBeDefined();
    }
    const env = await runCli(["policy", "role", "examples/policies/triage-readonly.wpc.json"], {
      AZURE_SUBSCRIPTION_ID: SUB,
      AZURE_RESOURCE_GROUP: "rg-sentinel",
    });
    expect(env.code, env.out).toBe(0);
    expect((JSON.parse(env.stdout) as RoleDefinitionFile[])[0]!.AssignableScopes).toEqual([SCOPE]);
  });

  it("-o writes the definitions, the ARM template and the Bicep file; --format prints either", async () => {
    const out = join(dir, "roles");
    const r = await runCli([
      "policy",
      "role",
      "examples/policies/containment-with-approvals.wpc.json",
      "--scope",
      SCOPE,
      "-o",
      out,
    ]);
    expect(r.code, r.out).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      "sentinel-containment-with-approvals.read.role.json",
      "sentinel-containment-with-approvals.roles.bicep",
      "sentinel-containment-with-approvals.roles.json",
      "sentinel-containment-with-approvals.write.role.json",
    ]);
    const arm = JSON.parse(readFileSync(join(out, "sentinel-containment-with-approvals.roles.json"), "utf8"));
    expect(arm.$schema).toContain("deploymentTemplate.json");
    const bicep = await runCli([
      "policy",
      "role",
      "examples/policies/triage-readonly.wpc.json",
      "--scope",
      SCOPE,
      "--format",
      "bicep",
    ]);
    expect(bicep.stdout).toMatch(/^\/\/ Least-privilege roles for policy sentinel-triage-readonly/);
    const armOut = await runCli([
      "policy",
      "role",
      "examples/policies/triage-readonly.wpc.json",
      "--scope",
      SCOPE,
      "--format",
      "arm",
    ]);
    expect(JSON.parse(armOut.stdout).resources.length).toBeGreaterThan(0);
  });

  it("bad inputs: exit 2 with the field and the fix", async () => {
    const noScope = await runCli(["policy", "role", "examples/policies/triage-readonly.wpc.json"], {
      AZURE_SUBSCRIPTION_ID: "",
    });
    expect(noScope.code).toBe(2);
    expect(noScope.stderr).toMatch(/--scope: no assignable scope/);
    expect(noScope.stderr).toMatch(/AZURE_SUBSCRIPTION_ID/);

    const workspaceScope = await runCli([
      "policy",
      "role",
      "examples/policies/triage-readonly.wpc.json",
      "--scope",
      `${SCOPE}/providers/Microsoft.OperationalInsights/workspaces/law`,
    ]);
    expect(workspaceScope.code).toBe(2);
    expect(workspaceScope.stderr).toMatch(/is not a subscription or resource group scope/);
    expect(workspaceScope.stderr).toMatch(/assignment itself goes on the workspace/);

    const format = await runCli([
      "policy",
      "role",
      "examples/policies/triage-readonly.wpc.json",
      "--scope",
      SCOPE,
      "--format",
      "yaml",
    ]);
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/--format "yaml" is not a format/);

    const wpc = examplePolicy("triage-readonly");
    wpc.constraints!["kql.query"]!.kql!.allowed_tables = ["SigninLogs", "Sign-in Logs"];
    const file = join(dir, "bad-table.wpc.json");
    writeFileSync(file, JSON.stringify(wpc));
    const table = await runCli(["policy", "role", file, "--scope", SCOPE]);
    // The WPC schema already refuses it (exit 1, policy_invalid), naming the field; role.ts checks again for policies
    // built in code (test/rbac/role.test.ts).
    expect(table.code).toBe(1);
    expect(table.stderr).toMatch(/constraints\.kql\.query\.kql\.allowed_tables\.1: must match pattern/);
  });
});
