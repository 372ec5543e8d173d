import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { REGISTRY_FILE, readRegistry } from "../../src/registry/workspaces.js";
import { createLocalClients, startWorkspace, type WorkspaceHandle } from "../../src/workspace/index.js";
import { WorkspaceStore } from "../../src/workspace/store.js";
import { CLI } from "../helpers/cli.js";
import { makeHome, type TestHome } from "../helpers/home.js";

const run = promisify(execFile);

/** The CLI in this process (fast): main() with its output captured. */
async function gsmcp(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    stdout += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    stderr += String(s);
    return true;
  });
  try {
    const code = await main(["--home", home, ...args]);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** The CLI as a user runs it (bin/gsmcp-dev.js in a child process). */
async function gsmcpBin(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, GSMCP_HOME: home } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const TENANT = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f";
const SUB = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
const WSID = "12345678-90ab-4cde-8f01-234567890abc";
const MI = "aabbccdd-eeff-4011-8223-344556677889";

const addArgs = (name: string, extra: string[] = []) => [
  "workspace",
  "add",
  name,
  "--tenant",
  TENANT,
  "--subscription",
  SUB,
  "--resource-group",
  "rg-customer-sec",
  "--workspace-name",
  "law-customer",
  "--workspace-id",
  WSID,
  ...extra,
];

describe("workspace registry: init and gsmcp workspace add|list|remove", () => {
  let h: TestHome;
  beforeAll(async () => {
    h = await makeHome();
  });

  it("init registers two embedded workspaces in two tenants, owner-only, contoso the default", () => {
    const file = join(h.home, REGISTRY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const config = JSON.parse(readFileSync(h.paths.config, "utf8"));
    expect(config.workspace_name).toBe("contoso");
    const reg = readRegistry(h.paths, config, {});
    expect(reg.entries.map((e) => e.name)).toEqual(["contoso", "fabrikam"]);
    expect(reg.defaultEntry.name).toBe("contoso");
    const [contoso, fabrikam] = reg.entries;
    expect(contoso!.tenant).not.toBe(fabrikam!.tenant);
    for (const e of reg.entries) {
      expect(e.backend).toBe("local");
      expect(e.tenant).toMatch(/^[0-9a-f-]{36}$/);
      expect(e.workspace_name).toBe(e.name);
      const ids = JSON.parse(readFileSync(join(h.home, e.local_dir!, "ids.json"), "utf8"));
      expect(ids).toMatchObject({
        workspaceName: e.name,
        workspaceId: e.workspace_id,
        subscriptionId: e.subscription,
        resourceGroup: e.resource_group,
      });
    }
    expect(contoso!.local_dir).toBe("workspace");
    expect(contoso!.subscription).not.toBe(fabrikam!.subscription);
    expect(contoso!.workspace_id).not.toBe(fabrikam!.workspace_id);
    expect(h.init.workspaces).toEqual(reg.entries);
  });

  describe("the two embedded workspaces through the Azure SDK", () => {
    const handles: WorkspaceHandle[] = [];
    afterAll(async () => {
      for (const w of handles) await w.close();
    });

    it("serve different incidents under their own names", async () => {
      const config = JSON.parse(readFileSync(h.paths.config, "utf8"));
      const seen: { names: string[]; titles: string[] }[] = [];
      for (const e of readRegistry(h.paths, config, {}).entries) {
        const ws = await startWorkspace(join(h.home, e.local_dir!), { port: 0 });
        handles.push(ws);
        const clients = createLocalClients(ws);
        const names: string[] = [];
        const titles: string[] = [];
        for await (const i of clients.securityInsights.incidents.list(e.resource_group, e.workspace_name)) {
          names.push(i.name!);
          titles.push(i.title!);
        }
        expect(names.length).toBeGreaterThan(0);
        seen.push({ names, titles });
      }
      const [a, b] = seen;
      // Different seeds: no incident id in common, and the drawn incidents differ.
      expect(a!.names.filter((n) => b!.names.includes(n))).toEqual([]);
      expect(a!.titles.sort()).not.toEqual(b!.titles.sort());
    });
  });

  it("add, list --json and remove round-trip through workspaces.json (0600)", async () => {
    const add = await gsmcpBin(
      h.home,
      addArgs("customer-a", ["--credential", "managed-identity", "--client-id", MI, "--default"]),
    );
    expect(add.code, add.stderr).toBe(0);
    expect(statSync(join(h.home, REGISTRY_FILE)).mode & 0o777).toBe(0o600);

    const list = await gsmcpBin(h.home, ["workspace", "list", "--json"]);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout).workspaces as Record<string, unknown>[];
    expect(rows.map((r) => [r.name, r.default])).toEqual([
      ["contoso", false],
      ["fabrikam", false],
      ["customer-a", true],
    ]);
    expect(rows[2]).toMatchObject({
      tenant: TENANT,
      backend: "azure",
      subscription: SUB,
      resource_group: "rg-customer-sec",
      workspace_name: "law-customer",
      workspace_id: WSID,
      credential: "managed-identity",
      client_id: MI,
    });

    const text = await gsmcp(h.home, ["workspace", "list"]);
    expect(text.stdout).toMatch(/^NAME\s+TENANT\s+BACKEND\s+WORKSPACE\s+DEFAULT$/m);
    expect(text.stdout).toMatch(new RegExp(`^customer-a\\s+${TENANT}\\s+azure\\s+law-customer\\s+\\*$`, "m"));

    const rm = await gsmcp(h.home, ["workspace", "remove", "customer-a"]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toContain("the default workspace is now contoso");
    const after = JSON.parse((await gsmcp(h.home, ["workspace", "list", "--json"])).stdout).workspaces;
    expect(after.map((r: { name: string; default: boolean }) => [r.name, r.default])).toEqual([
      ["contoso", true],
      ["fabrikam", false],
    ]);
  });

  it("bad input is refused with exit code 2, naming the flag", async () => {
    const cases: [string[], RegExp][] = [
      [
        addArgs("c1", ["--credential", "password"]),
        /--credential "password" is not a credential.*default or managed-identity/,
      ],
      [
        addArgs("c1", ["--credential", "managed-identity"]),
        /--client-id is required with --credential managed-identity/,
      ],
      [addArgs("c1", ["--client-id", MI]), /--client-id is only used with --credential managed-identity/],
      [addArgs("c1").filter((a) => a !== "--tenant" && a !== TENANT), /--tenant is required/],
      [
        addArgs("c1").map((a) => (a === TENANT ? "contoso.onmicrosoft.com" : a)),
        /--tenant "contoso.onmicrosoft.com" is not a GUID/,
      ],
      [addArgs("c1").map((a) => (a === "law-customer" ? "x" : a)), /--workspace-name "x" is not a workspace name/],
      [addArgs("bad name!"), /NAME .*letters, digits/],
      [addArgs("fabrikam"), /NAME "fabrikam" is already in the registry/],
      [["workspace", "remove", "nope"], /NAME "nope" is not in the registry.*contoso, fabrikam/],
      [["workspace", "seed", "--workspace", "nope"], /--workspace "nope" is not in the registry/],
      [["workspace", "add", "c1", "--no-such-flag"], /unknown option/],
    ];
    for (const [args, message] of cases) {
      const r = await gsmcp(h.home, args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    // Nothing was written by the refusals.
    const names = JSON.parse((await gsmcp(h.home, ["workspace", "list", "--json"])).stdout).workspaces.map(
      (r: { name: string }) => r.name,
    );
    expect(names).toEqual(["contoso", "fabrikam"]);
  });

  it("refuses to remove the last workspace", async () => {
    expect((await gsmcp(h.home, ["workspace", "remove", "fabrikam"])).code).toBe(0);
    const r = await gsmcp(h.home, ["workspace", "remove", "contoso"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/NAME "contoso" is the last workspace in the registry — add another workspace first/);
  });

  it("workspace seed and reset act on the named workspace, leaving the other alone", async () => {
    const g = await makeHome();
    // Through the store: the incidents of one embedded workspace, and the seed it was last seeded with.
    const count = (dir: string) => {
      const s = new WorkspaceStore(join(g.home, dir, "workspace.db"));
      try {
        return { n: s.list("incidents").length, seed: JSON.parse(s.meta("seed") ?? "{}").seed as number | undefined };
      } finally {
        s.close();
      }
    };
    const before = count("workspace-fabrikam");
    expect(before.seed).toBe(8); // makeHome seeds 7; fabrikam gets 7 + 1
    const reset = await gsmcp(g.home, ["workspace", "reset", "--workspace", "fabrikam"]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(count("workspace-fabrikam").n).toBe(0);
    expect(count("workspace").n).toBeGreaterThan(0);
    const seed = await gsmcp(g.home, ["workspace", "seed", "--workspace", "fabrikam", "--seed", "8"]);
    expect(seed.code, seed.stderr).toBe(0);
    expect(count("workspace-fabrikam")).toEqual(before);
    // No --workspace: the default one (contoso), reseeded with its own seed.
    const def = await gsmcp(g.home, ["workspace", "seed"]);
    expect(def.stdout).toContain("seeded workspace contoso (seed 7,");
  });
});
