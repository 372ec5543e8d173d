import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateRoles } from "../../src/rbac/role.js";
import { readRegistry } from "../../src/registry/workspaces.js";
import type { SentinelBackend } from "../../src/sentinel/backend.js";
import { openBackendFor } from "../../src/sentinel/open.js";
import { TOOLS } from "../../src/tools/registry.js";
import { armOperationOf, IDENTITY_FILE, type IdentityConfig } from "../../src/workspace/arm-authorization.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { examplePolicy } from "../helpers/policy.js";

// The embedded workspace enforces its identity on the ARM and query endpoints, naming requests the way ARM does. So
// the tools' declared operations are tested against the requests their calls really make: under the exact role of
// `gsmcp policy role` every call goes through, and under a role without an operation the call that needs it gets 403.
const SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sentinel";

describe("the embedded workspace enforces its identity", () => {
  let h: TestHome;
  let dir: string;
  let entry: ReturnType<ReturnType<typeof readRegistry>["resolve"]>;
  const setIdentity = (identity: IdentityConfig | undefined) => {
    const f = join(dir, IDENTITY_FILE);
    if (identity) writeFileSync(f, JSON.stringify(identity));
    else rmSync(f, { force: true });
  };
  const exact = (name: string): IdentityConfig => ({
    roles: ["custom"],
    custom: generateRoles(examplePolicy(name), [SCOPE]).roles.map(({ definition: d }) => ({ actions: d.Actions })),
  });

  beforeAll(async () => {
    h = await makeHome();
    entry = readRegistry(h.paths, JSON.parse(readFileSync(h.paths.config, "utf8"))).defaultEntry;
    dir = join(h.home, entry.local_dir!);
  });
  afterAll(() => rmSync(h.home, { recursive: true, force: true }));

  it("names requests as ARM does", () => {
    const si = "Microsoft.SecurityInsights";
    expect(armOperationOf("GET", ["incidents"], si)).toBe(`${si}/incidents/read`);
    expect(armOperationOf("PUT", ["incidents", "i1", "comments", "c1"], si)).toBe(`${si}/incidents/comments/write`);
    expect(armOperationOf("POST", ["incidents", "i1", "alerts"], si)).toBe(`${si}/incidents/alerts/action`);
    expect(armOperationOf("POST", ["threatIntelligence", "main", "queryIndicators"], si)).toBe(
      `${si}/threatIntelligence/queryIndicators/action`,
    );
    expect(armOperationOf("GET", ["threatIntelligence", "main", "indicators"], si)).toBe(
      `${si}/threatIntelligence/indicators/read`,
    );
    expect(armOperationOf("DELETE", ["watchlists", "w", "watchlistItems", "x"], si)).toBe(
      `${si}/watchlists/watchlistItems/delete`,
    );
  });

  it("under the exact triage-readonly role every read tool works; under Reader the POST list calls get 403", async () => {
    setIdentity(exact("triage-readonly"));
    const s = await startSession(h, { policy: "triage-readonly" });
    try {
      const call = async (name: string, args: Record<string, unknown> = {}) => {
        const r = (await s.client.callTool({ name, arguments: args })) as {
          isError?: boolean;
          content: { text: string }[];
          structuredContent?: Record<string, unknown>;
        };
        return r;
      };
      const list = await call("sentinel_incidents_list", { top: 3 });
      expect(list.isError, list.content[0]?.text).toBeFalsy();
      const incidentId = (list.structuredContent!.incidents as { id: string }[])[0]!.id;
      const calls: [string, Record<string, unknown>][] = [
        ["sentinel_incidents_get", { incidentId }],
        ["sentinel_incidents_alerts", { incidentId }],
        ["sentinel_incidents_entities", { incidentId }],
        ["sentinel_incidents_comments_list", { incidentId }],
        ["sentinel_alerts_list", {}],
        ["sentinel_kql_query", { query: "SigninLogs | take 1", timespan: "P1D" }],
        ["sentinel_huntingQueries_list", {}],
        ["sentinel_bookmarks_list", {}],
        ["sentinel_dataConnectors_list", {}],
        ["sentinel_alertRuleTemplates_list", {}],
        ["sentinel_threatIntelligence_indicators_list", {}],
      ];
      for (const [name, args] of calls) {
        const r = await call(name, args);
        expect(r.isError, `${name}: ${r.content[0]?.text}`).toBeFalsy();
      }
      // Each declared operation is needed: without it (everything else of the exact role kept), the tool's call is
      // refused. Table-level reads are not enforced by the embedded workspace, so they are not part of this.
      const actions = exact("triage-readonly").custom![0]!.actions!;
      let removed = 0;
      for (const [name, args] of calls) {
        const op = name.replace(/^sentinel_/, "").replace(/_/g, ".");
        const tool = TOOLS.find((t) => t.op === op)!;
        for (const a of tool.rbac.actions.filter(
          (x) => !/\/query\/[^/]+\/read$/i.test(x) || /\/query\/read$/.test(x),
        )) {
          setIdentity({
            roles: ["custom"],
            custom: [{ actions: actions.filter((x) => x.toLowerCase() !== a.toLowerCase()) }],
          });
          const r = await call(name, args);
          expect(r.isError, `${name} without ${a}`).toBe(true);
          expect(r.content.map((c) => c.text).join("\n"), `${name} without ${a}`).toMatch(/403|AuthorizationFailed/);
          removed++;
        }
      }
      expect(removed).toBeGreaterThanOrEqual(calls.length);
      setIdentity({ roles: ["reader"] });
      const refused = await call("sentinel_incidents_alerts", { incidentId });
      expect(refused.isError).toBe(true);
      expect(refused.content.map((c) => c.text).join("\n")).toMatch(
        /AuthorizationFailed|Microsoft\.SecurityInsights\/incidents\/alerts\/action/,
      );
      // Reads by GET pass under Reader (Microsoft.SecurityInsights/*/read).
      expect((await call("sentinel_incidents_get", { incidentId })).isError).toBeFalsy();
    } finally {
      await s.close();
    }
  });

  it("writes: the containment write role lets the backend update, comment and undo; Reader gets 403", async () => {
    let b: SentinelBackend | undefined;
    try {
      setIdentity(exact("containment-with-approvals"));
      b = await openBackendFor(h.paths, entry);
      const [inc] = await b.listIncidents({ top: 1 });
      const updated = await b.updateIncident(inc!.id, { labels: [...inc!.labels, "rbac-test"] });
      expect(updated.labels).toContain("rbac-test");
      await b.addComment(inc!.id, "c-rbac", "checked under the exact role");
      const bm = await b.putBookmark("bm-rbac", { displayName: "rbac", query: "SigninLogs | take 1" });
      expect(bm.displayName).toBe("rbac");
      await b.deleteBookmark("bm-rbac"); // rollback of bookmarks.create: in the write role
      // Denied by the policy, so not in the role: the workspace refuses it as Azure would.
      await expect(
        b
          .listAutomationRules()
          .then(() => b!.putAutomationRule({ id: "x", displayName: "x", order: 1, enabled: true, actions: [] })),
      ).rejects.toThrow(/403|AuthorizationFailed/);

      setIdentity({ roles: ["reader"] });
      await expect(b.updateIncident(inc!.id, { labels: inc!.labels })).rejects.toThrow(
        /403|Microsoft\.SecurityInsights\/incidents\/write/,
      );
      await expect(b.addComment(inc!.id, "c-rbac-2", "x")).rejects.toThrow(/403|comments\/write/);
    } finally {
      setIdentity(undefined);
      await b?.close();
    }
  });
});
