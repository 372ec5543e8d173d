import { mkdtempSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SdkBackend } from "../../src/sentinel/sdk-backend.js";
import {
  IDENTITY_FILE,
  type IdentityConfig,
  type IdentityConfigError,
  ROLE_SETS,
  validateIdentityConfig,
} from "../../src/workspace/arm-authorization.js";
import { createLocalClients, initWorkspace, startWorkspace, type WorkspaceHandle } from "../../src/workspace/index.js";

// The permissions endpoint over the real SDK: @azure/arm-authorization's Permissions client against the embedded
// workspace, exactly as the permission check reads Azure.
describe("embedded workspace: Microsoft.Authorization/permissions", () => {
  let dir: string;
  const open: WorkspaceHandle[] = [];
  const start = async (identity?: IdentityConfig) => {
    const ws = await startWorkspace(dir, { port: 0, ...(identity ? { identity } : {}) });
    open.push(ws);
    return ws;
  };
  const list = async (ws: WorkspaceHandle, scope: "workspace" | "rg" = "workspace") => {
    const { authorization } = createLocalClients(ws);
    const out = [];
    const iter =
      scope === "rg"
        ? authorization.permissions.listForResourceGroup(ws.ids.resourceGroup)
        : authorization.permissions.listForResource(
            ws.ids.resourceGroup,
            "Microsoft.OperationalInsights",
            "",
            "workspaces",
            ws.ids.workspaceName,
          );
    for await (const p of iter) out.push(p);
    return out;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gsmcp-authz-"));
    await initWorkspace(dir, { seed: 3 });
  });
  afterAll(async () => {
    for (const ws of open) await ws.close();
  });

  it("answers each role set, at workspace and resource-group scope, in Azure's shape", async () => {
    for (const set of ["reader", "responder", "contributor", "owner"] as const) {
      const ws = await start({ roles: [set] });
      const perms = await list(ws);
      expect(perms, set).toEqual([ROLE_SETS[set]]);
      expect(await list(ws, "rg"), set).toEqual([ROLE_SETS[set]]);
    }
    expect(ROLE_SETS.contributor.actions).toEqual(["*"]);
    expect(ROLE_SETS.contributor.notActions).toContain("Microsoft.Authorization/*/Write");
  });

  it("several role sets are several entries (one per assignment); a custom set is given entries", async () => {
    const custom = { actions: ["Microsoft.SecurityInsights/incidents/read"] };
    const ws = await start({ roles: ["reader", "custom"], custom: [custom] });
    const perms = await list(ws);
    expect(perms).toHaveLength(2);
    expect(perms[1]).toEqual({ actions: custom.actions, notActions: [], dataActions: [], notDataActions: [] });
  });

  it("without identity.json the secret is owner; with one, startWorkspace reads it", async () => {
    expect(await list(await start())).toEqual([ROLE_SETS.owner]);
    writeFileSync(join(dir, IDENTITY_FILE), JSON.stringify({ roles: ["reader"] }));
    try {
      const ws = await start();
      expect(ws.identity).toEqual({ roles: ["reader"] });
      // The backend's own method, as serve and doctor call it.
      const b = new SdkBackend(ws.ids, createLocalClients(ws));
      expect(await b.permissions()).toEqual([ROLE_SETS.reader]);
    } finally {
      writeFileSync(join(dir, IDENTITY_FILE), JSON.stringify({ roles: ["owner"] }));
    }
  });

  it("another workspace's scope is 404; a missing api-version 400, as ARM answers", async () => {
    const ws = await start({ roles: ["reader"] });
    const { authorization } = createLocalClients(ws);
    const err = await (async () => {
      for await (const _ of authorization.permissions.listForResource(
        ws.ids.resourceGroup,
        "Microsoft.OperationalInsights",
        "",
        "workspaces",
        "someone-elses",
      ));
    })().catch((e: unknown) => e);
    // The SDK's RestError (its own copy of core-rest-pipeline, so compared by name).
    expect((err as Error).name).toBe("RestError");
    expect((err as { statusCode?: number }).statusCode).toBe(404);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        `${ws.url}/subscriptions/${ws.ids.subscriptionId}/resourcegroups/${ws.ids.resourceGroup}/providers/Microsoft.Authorization/permissions`,
        { ca: ws.caPem, headers: { authorization: `Bearer ${ws.secret}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(400);
  });

  it("a bad identity.json stops the workspace from starting, naming the field and the fix", async () => {
    const cases: [unknown, RegExp][] = [
      [[], /is not an object/],
      [{ roles: [] }, /roles must be a non-empty list/],
      [{ roles: ["admin"] }, /roles\[0\]: "admin" is not a role set/],
      [{ roles: ["custom"] }, /"custom" needs a non-empty custom list/],
      [{ roles: ["reader"], custom: [{ actions: ["x"] }] }, /roles does not list "custom"/],
      [{ roles: ["custom"], custom: [{ actions: "x" }] }, /custom\[0\]\.actions is not a list/],
      [{ roles: ["custom"], custom: [{ action: ["x"] }] }, /custom\[0\]: unknown field "action"/],
      [{ roles: ["reader"], role: "x" }, /unknown field "role"/],
    ];
    for (const [raw, msg] of cases) {
      expect(() => validateIdentityConfig(raw), JSON.stringify(raw)).toThrowError(msg);
      try {
        validateIdentityConfig(raw);
      } catch (e) {
        expect((e as IdentityConfigError).fix, JSON.stringify(raw)).toBeTruthy();
      }
    }
    writeFileSync(join(dir, IDENTITY_FILE), JSON.stringify({ roles: ["admin"] }));
    try {
      await expect(startWorkspace(dir, { port: 0 })).rejects.toThrowError(/identity\.json roles\[0\]/);
      writeFileSync(join(dir, IDENTITY_FILE), "{not json");
      await expect(startWorkspace(dir, { port: 0 })).rejects.toThrowError(/identity\.json is not JSON/);
    } finally {
      writeFileSync(join(dir, IDENTITY_FILE), JSON.stringify({ roles: ["owner"] }));
    }
  });
});
