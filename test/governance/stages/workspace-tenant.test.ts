import { describe, expect, it } from "vitest";
import { decideCall } from "../../../src/governance/stages/decide-call.js";
import { WorkspaceRegistry } from "../../../src/registry/workspaces.js";
import { TOOLS } from "../../../src/tools/registry.js";
import type { CstClaims } from "../../../src/types/cst.js";
import type { WorkPolicyContract } from "../../../src/types/wpc.js";
import { harness, POLICY } from "./harness.js";

// Tenant separation for every tool, not only the ones the server tests call: each tool that takes a `workspace`
// argument carries it into the decision, and a job pinned to tenant A is refused every workspace of tenant B — and
// every name the registry does not hold.

const REGISTRY = new WorkspaceRegistry([
  {
    name: "ws-a",
    tenant: "tenant-a",
    backend: "local",
    subscription: "-",
    resource_group: "-",
    workspace_name: "a",
    workspace_id: "-",
    local_dir: "a",
    default: true,
  },
  {
    name: "ws-b",
    tenant: "tenant-b",
    backend: "local",
    subscription: "-",
    resource_group: "-",
    workspace_name: "b",
    workspace_id: "-",
    local_dir: "b",
  },
]);
const withWorkspace = TOOLS.filter((t) => "workspace" in ((t.input as unknown as { shape?: object }).shape ?? {}));

describe("stage: decide — workspaces and tenants for every tool", () => {
  it("covers the tools that take a workspace", () => {
    expect(withWorkspace.length).toBeGreaterThan(10);
  });

  for (const tool of withWorkspace)
    it(`${tool.op}: workspace reaches the decision; tenant B, and unknown names, are refused for a tenant-A job`, async () => {
      const h = await harness({
        ...POLICY,
        allow: [{ tool: "sentinel.api", ops: withWorkspace.map((t) => t.op) }],
        deny: [],
        approvals: [],
      } as unknown as WorkPolicyContract);
      h.deps.registry = REGISTRY;
      const base = h.caller("job-t", [tool.op]);
      const caller = { ...base, claims: { ...base.claims, tenants: ["tenant-a"] } as CstClaims };
      expect(tool.facts?.({ workspace: "ws-b" } as never).workspace).toBe("ws-b");
      const b = await decideCall(tool, { workspace: "ws-b" }, caller, h.env);
      expect(!b.ok && b.error.code).toBe("tenant_not_allowed");
      const unknown = await decideCall(tool, { workspace: "ws-z" }, caller, h.env);
      expect(!unknown.ok && unknown.error.code).toBe("workspace_unknown");
      const pinned = { ...base, claims: { ...base.claims, workspaces: ["ws-a"] } as CstClaims };
      const other = await decideCall(tool, { workspace: "ws-b" }, pinned, h.env);
      expect(!other.ok && other.error.code).toBe("workspace_not_allowed");
    });
});
