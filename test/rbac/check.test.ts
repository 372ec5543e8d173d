import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../src/cli/commands/doctor.js";
import {
  intervalFromEnv,
  LeastPrivilegeRefusal,
  type PermissionReport,
  watchServingIdentity,
} from "../../src/rbac/check.js";
import { generateRoles } from "../../src/rbac/role.js";
import { readRegistry } from "../../src/registry/workspaces.js";
import { openRuntime, type Runtime } from "../../src/server/runtime.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { IDENTITY_FILE, type IdentityConfig } from "../../src/workspace/arm-authorization.js";
import { createLocalClients, startWorkspace } from "../../src/workspace/index.js";
import { runCli } from "../helpers/cli.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";

// The effective-permission check end to end, as serve runs it: the runtime's own backend (the embedded workspace over
// the real Azure SDK, with the server's credential) answers Microsoft.Authorization/permissions for the role set in
// the workspace's identity.json; the check compares it with the policy and reports, emits, or refuses.
describe("effective-permission check against the embedded workspace", () => {
  let h: TestHome;
  let defaultDir: string;
  const SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sentinel";

  beforeAll(async () => {
    h = await makeHome();
    const config = JSON.parse(readFileSync(h.paths.config, "utf8"));
    const entry = readRegistry(h.paths, config).defaultEntry;
    defaultDir = join(h.home, entry.local_dir!);
  });
  afterAll(() => rmSync(h.home, { recursive: true, force: true }));

  const setIdentity = (identity: IdentityConfig | undefined) => {
    const f = join(defaultDir, IDENTITY_FILE);
    if (identity) writeFileSync(f, JSON.stringify(identity));
    else rmSync(f, { force: true });
  };
  const events = (): AgentSecurityEvent[] => {
    const f = join(h.paths.telemetry, "events.jsonl");
    return existsSync(f)
      ? readFileSync(f, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as AgentSecurityEvent)
      : [];
  };

  /** Opens the runtime as serve does and runs its start check. */
  async function check(policyFile: string): Promise<{ reports: PermissionReport[]; runtime: Runtime }> {
    const runtime = await openRuntime({ home: h.home, policyRef: policyFile });
    try {
      const w = await watchServingIdentity(runtime, {
        onRefuse: () => {},
        env: { GSMCP_RBAC_CHECK_SECONDS: "0" },
      });
      w.stop();
      return { reports: w.reports, runtime };
    } finally {
      await runtime.close();
    }
  }

  it("no identity.json: the embedded workspace is not checked (nothing reported, no event)", async () => {
    setIdentity(undefined);
    const before = events().length;
    const { reports } = await check(h.policyFile("triage-readonly"));
    expect(reports).toEqual([]);
    expect(events().filter((e) => e.EventType === "PermissionCheck").length).toBe(
      events()
        .slice(0, before)
        .filter((e) => e.EventType === "PermissionCheck").length,
    );
  });

  it("a Contributor identity under triage-readonly is reported: excess, dangerous first, and a PermissionCheck event", async () => {
    setIdentity({ roles: ["contributor"] });
    const { reports } = await check(h.policyFile("triage-readonly"));
    expect(reports).toHaveLength(1);
    const r = reports[0]!;
    expect(r.status).toBe("excess");
    expect(r.missing).toEqual([]);
    expect(r.refuse).toBe(false);
    expect(r.excess[0]).toMatchObject({ name: "*", danger: "critical" });
    const ev = events()
      .filter((e) => e.EventType === "PermissionCheck")
      .at(-1)!;
    expect(ev).toMatchObject({
      Action: "rbac.check",
      PolicyDecision: "LOG",
      Severity: 4,
      Workspace: r.workspace,
      ToolResult: `excess:${r.excess.length},missing:0`,
    });
    expect((ev.ToolParameters as { excess: { danger: string }[] }).excess[0]!.danger).toBe("critical");
  });

  it("…and refused under token_requirements.require_least_privilege", async () => {
    setIdentity({ roles: ["contributor"] });
    const wpc: WorkPolicyContract = examplePolicy("triage-readonly");
    wpc.policy_name = "triage-least-privilege";
    wpc.token_requirements.require_least_privilege = true;
    const file = signTestPolicy(h, wpc);
    const runtime = await openRuntime({ home: h.home, policyRef: file });
    try {
      const err = await watchServingIdentity(runtime, {
        onRefuse: () => {},
        env: { GSMCP_RBAC_CHECK_SECONDS: "0" },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LeastPrivilegeRefusal);
      expect((err as Error).message).toMatch(/require_least_privilege.*critical: \*.*refusing to serve/);
    } finally {
      await runtime.close();
    }
    const ev = events()
      .filter((e) => e.EventType === "PermissionCheck")
      .at(-1)!;
    expect(ev).toMatchObject({ PolicyDecision: "BLOCK", ErrorCode: 403, Severity: 4 });

    // gsmcp serve itself refuses to start (exit 2), naming the field and the fix.
    const serve = await runCli(["--home", h.home, "serve"], { GSMCP_POLICY: file, GSMCP_CST: "" });
    expect(serve.code, serve.out).toBe(2);
    expect(serve.stderr).toMatch(/require_least_privilege/);
    expect(serve.stderr).toMatch(/gsmcp policy role/);
  });

  it("a Reader identity under containment-with-approvals is missing the write actions, with the tools that fail", async () => {
    setIdentity({ roles: ["reader"] });
    const { reports } = await check(h.policyFile("containment-with-approvals"));
    const r = reports[0]!;
    expect(r.status).toBe("missing+excess");
    const missing = new Map(r.missing.map((m) => [m.name, m.tools]));
    expect(missing.get("Microsoft.SecurityInsights/incidents/write")?.sort()).toEqual([
      "incidents.close",
      "incidents.update",
    ]);
    expect(missing.get("Microsoft.SecurityInsights/incidents/comments/write")).toEqual(["incidents.comments.add"]);
    expect(missing.get("Microsoft.SecurityInsights/alertRules/write")).toEqual(["analyticsRules.create"]);
    expect(missing.get("Microsoft.SecurityInsights/Bookmarks/write")).toEqual(["bookmarks.create"]);
    // Every read the GETs need is there (Microsoft.SecurityInsights/*/read): what is missing is writes, the deletes
    // of rollback, and reads Azure names /action because the API uses POST (incident alerts, entity timeline).
    for (const m of r.missing) expect(m.name, m.name).toMatch(/\/(write|delete|action)$/);
    expect(r.missing.filter((m) => m.rollbackOnly).map((m) => m.name)).toEqual([
      "Microsoft.SecurityInsights/alertRules/delete",
      "Microsoft.SecurityInsights/Bookmarks/delete",
    ]);
  });

  it("the exact custom role of `gsmcp policy role` passes clean, for both example policies", async () => {
    for (const name of ["triage-readonly", "containment-with-approvals"] as const) {
      const g = generateRoles(examplePolicy(name), [SCOPE]);
      setIdentity({
        roles: ["custom"],
        custom: g.roles.map(({ definition: d }) => ({ actions: d.Actions, dataActions: d.DataActions })),
      });
      const { reports } = await check(h.policyFile(name));
      expect(reports[0], name).toMatchObject({ status: "ok", missing: [], excess: [], refuse: false });
    }
    const ev = events()
      .filter((e) => e.EventType === "PermissionCheck")
      .at(-1)!;
    expect(ev).toMatchObject({ PolicyDecision: "ALLOW", ToolResult: "ok", Severity: 1 });
  });

  it("a periodic re-check that finds new excess calls onRefuse under require_least_privilege", async () => {
    const wpc: WorkPolicyContract = examplePolicy("triage-readonly");
    wpc.policy_name = "triage-least-privilege-periodic";
    wpc.token_requirements.require_least_privilege = true;
    const file = signTestPolicy(h, wpc);
    const g = generateRoles(wpc, [SCOPE]);
    setIdentity({ roles: ["custom"], custom: [{ actions: g.roles[0]!.definition.Actions }] });
    const runtime = await openRuntime({ home: h.home, policyRef: file });
    try {
      let refused: PermissionReport[] | undefined;
      const w = await watchServingIdentity(runtime, {
        onRefuse: (r) => {
          refused = r;
        },
        env: { GSMCP_RBAC_CHECK_SECONDS: "1" },
      });
      expect(w.reports[0]!.status).toBe("ok");
      // Someone assigns Contributor while the server runs: the next re-check sees it and serving stops.
      setIdentity({ roles: ["custom", "contributor"], custom: [{ actions: g.roles[0]!.definition.Actions }] });
      const deadline = Date.now() + 10_000;
      while (!refused && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      w.stop();
      expect(refused?.[0]).toMatchObject({ status: "excess", refuse: true });
      expect(refused![0]!.excess[0]).toMatchObject({ name: "*", danger: "critical" });
    } finally {
      await runtime.close();
    }
  });

  it("the SOC's alert query of docs/azure.md finds the event in the workspace's AgentSecurityEvent_CL", async () => {
    setIdentity({ roles: ["contributor"] });
    const wpc: WorkPolicyContract = examplePolicy("triage-readonly");
    wpc.policy_name = "triage-local-telemetry-rbac";
    wpc.telemetry = { sink: "local" };
    await check(signTestPolicy(h, wpc)); // closing the runtime flushes the Logs Ingestion sink
    const doc = readFileSync("docs/azure.md", "utf8");
    // The block as the page shows it (indented in a list item).
    const query = /```kql\n((?: *)AgentSecurityEvent\n *\| where EventType == "PermissionCheck"[\s\S]*?) *```/
      .exec(doc)![1]!
      .replace(/^ +/gm, "");
    const ws = await startWorkspace(defaultDir, { port: 0 });
    try {
      const r = await createLocalClients(ws).logsQuery.queryWorkspace(ws.ids.workspaceId, query, { duration: "PT1H" });
      if (r.status !== "Success") throw new Error("query failed");
      const t = r.tables[0]!;
      const col = (name: string) => t.columnDescriptors.findIndex((c) => c.name === name);
      expect(t.rows.length).toBeGreaterThan(0);
      const row = t.rows.at(-1)!;
      expect(row[col("PolicyDecision")]).toBe("LOG");
      expect(row[col("Severity")]).toBe(4);
      const excess = row[col("excess")] as { name: string; danger: string }[];
      expect(excess[0]).toMatchObject({ name: "*", danger: "critical" });
    } finally {
      await ws.close();
    }
  });

  it("the re-check period: default 15 minutes, 0 off, anything else refused naming the variable", () => {
    expect(intervalFromEnv({})).toBe(900_000);
    expect(intervalFromEnv({ GSMCP_RBAC_CHECK_SECONDS: "0" })).toBe(0);
    expect(intervalFromEnv({ GSMCP_RBAC_CHECK_SECONDS: "60" })).toBe(60_000);
    for (const bad of ["-1", "1.5", "15m", " 60"])
      expect(() => intervalFromEnv({ GSMCP_RBAC_CHECK_SECONDS: bad })).toThrowError(
        /GSMCP_RBAC_CHECK_SECONDS=.*0 turns/,
      );
  });

  it("doctor reports the identity per workspace against GSMCP_POLICY (unsafe when serve would refuse)", async () => {
    setIdentity({ roles: ["reader"] });
    const d = await runDoctor(h.home, new Date(), {
      ...process.env,
      GSMCP_POLICY: h.policyFile("containment-with-approvals"),
    });
    const rbac = d.filter((c) => c.check.startsWith("rbac:"));
    expect(rbac).toHaveLength(1);
    expect(rbac[0]).toMatchObject({ status: "warn" });
    expect(rbac[0]!.message).toMatch(/^identity on workspace contoso: \d+ missing \(/);
    expect(rbac[0]!.details!.some((x) => x.startsWith("missing Microsoft.SecurityInsights/incidents/write"))).toBe(
      true,
    );

    const noPolicy = await runDoctor(h.home, new Date(), { ...process.env, GSMCP_POLICY: "" });
    expect(noPolicy.find((c) => c.check === "rbac")).toMatchObject({ status: "warn", fix: /GSMCP_POLICY/ });

    setIdentity(undefined);
    const none = await runDoctor(h.home, new Date(), { ...process.env, GSMCP_POLICY: h.policyFile("triage-readonly") });
    expect(none.filter((c) => c.check.startsWith("rbac"))).toEqual([]);
  });
});
