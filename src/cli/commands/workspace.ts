import { chmodSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { type HomePaths, requireHome } from "../../governance/home.js";
import {
  REGISTRY_FILE,
  readRegistry,
  type WorkspaceEntry,
  WorkspaceEntrySchema,
  writeRegistry,
} from "../../registry/workspaces.js";
import type { WorkspaceAddOutput } from "../../types/cli/workspace-add.js";
import type { WorkspaceListOutput } from "../../types/cli/workspace-list.js";
import type { WorkspaceRemoveOutput } from "../../types/cli/workspace-remove.js";
import type { WorkspaceResetOutput } from "../../types/cli/workspace-reset.js";
import type { WorkspaceSeedOutput } from "../../types/cli/workspace-seed.js";
import type { WorkspaceStartOutput } from "../../types/cli/workspace-start.js";
import { resetWorkspace, seedWorkspace, startWorkspace } from "../../workspace/index.js";
import { WorkspaceStore } from "../../workspace/store.js";
import { CliError, out, printJson } from "../output.js";
import { withProgress } from "../progress.js";

const SIZES = ["demo", "small", "medium", "large"] as const;

function parseSize(v: string): (typeof SIZES)[number] | number {
  if ((SIZES as readonly string[]).includes(v)) return v as (typeof SIZES)[number];
  const n = Number(v);
  if (!Number.isInteger(n) || n < 100 || n > 1_000_000) {
    throw new CliError(`--size "${v}" is not a size`, 2, `use ${SIZES.join("|")} or a row count from 100 to 1000000`);
  }
  return n;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Azure's rules: resource group 1-90 of letters, digits, _ ( ) - . (not ending in .); workspace 4-63, - inside. */
const RESOURCE_GROUP = /^[\p{L}\p{N}_().-]{0,89}[\p{L}\p{N}_()-]$/u;
const WORKSPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$/;
const CREDENTIALS = ["default", "managed-identity"] as const;

/** The flag (or argument) that sets each registry field, to name it in errors. */
const FLAG: Record<string, string> = {
  name: "NAME",
  tenant: "--tenant",
  subscription: "--subscription",
  resource_group: "--resource-group",
  workspace_name: "--workspace-name",
  workspace_id: "--workspace-id",
  credential: "--credential",
  client_id: "--client-id",
};

interface AddOptions {
  tenant?: string;
  subscription?: string;
  resourceGroup?: string;
  workspaceName?: string;
  workspaceId?: string;
  credential?: string;
  clientId?: string;
  default?: boolean;
}

/** The azure entry `workspace add` describes; every problem names its flag and the fix (exit 2). */
export function azureEntry(name: string, o: AddOptions): WorkspaceEntry {
  const bad = (flag: string, problem: string, fix: string) => new CliError(`${flag} ${problem}`, 2, fix);
  const required: [keyof AddOptions, string, string][] = [
    ["tenant", "--tenant", "the Entra tenant id (GUID) the workspace belongs to (the customer's, with Lighthouse)"],
    ["subscription", "--subscription", "the subscription id (GUID) holding the workspace"],
    ["resourceGroup", "--resource-group", "the workspace's resource group"],
    ["workspaceName", "--workspace-name", "the Log Analytics workspace name"],
    ["workspaceId", "--workspace-id", "the workspace id (GUID; the portal's Workspace ID, the customerId property)"],
  ];
  for (const [k, flag, what] of required)
    if (o[k] === undefined || o[k] === "") throw bad(flag, "is required", `give ${flag} with ${what}`);
  const guid = (flag: string, v: string, what: string) => {
    if (!GUID.test(v)) throw bad(flag, `"${v}" is not a GUID`, `give ${what} as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`);
  };
  // Tenants are compared by id in policies, tokens and receipts: a domain name for the same tenant would not match.
  guid("--tenant", o.tenant!, "the tenant id (not its domain name)");
  guid("--subscription", o.subscription!, "the subscription id");
  guid("--workspace-id", o.workspaceId!, "the workspace id");
  if (!RESOURCE_GROUP.test(o.resourceGroup!))
    throw bad(
      "--resource-group",
      `"${o.resourceGroup}" is not a resource group name`,
      "use 1-90 letters, digits, _ ( ) - . (not ending in .)",
    );
  if (!WORKSPACE_NAME.test(o.workspaceName!))
    throw bad(
      "--workspace-name",
      `"${o.workspaceName}" is not a workspace name`,
      "use 4-63 letters, digits and -, starting and ending with a letter or digit",
    );
  const credential = o.credential ?? "default";
  if (!(CREDENTIALS as readonly string[]).includes(credential))
    throw bad("--credential", `"${credential}" is not a credential`, `use ${CREDENTIALS.join(" or ")}`);
  if (credential === "managed-identity" && !o.clientId)
    throw bad(
      "--client-id",
      "is required with --credential managed-identity",
      "give the client id of the user-assigned managed identity",
    );
  if (credential === "default" && o.clientId)
    throw bad(
      "--client-id",
      "is only used with --credential managed-identity",
      "add --credential managed-identity, or drop --client-id",
    );
  if (o.clientId !== undefined) guid("--client-id", o.clientId, "the managed identity's client id");
  const entry = {
    name,
    tenant: o.tenant!,
    backend: "azure",
    subscription: o.subscription!,
    resource_group: o.resourceGroup!,
    workspace_name: o.workspaceName!,
    workspace_id: o.workspaceId!,
    credential,
    ...(o.clientId !== undefined ? { client_id: o.clientId } : {}),
    ...(o.default ? { default: true } : {}),
  };
  const parsed = WorkspaceEntrySchema.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? "");
    throw bad(FLAG[field] ?? field, issue.message, `correct ${FLAG[field] ?? field}`);
  }
  return parsed.data;
}

/** Writes the registry and makes sure it is owner-only (also when the file existed with wider permissions). */
function saveRegistry(paths: HomePaths, entries: WorkspaceEntry[]): void {
  writeRegistry(paths, entries);
  chmodSync(join(paths.root, REGISTRY_FILE), 0o600);
}

/** The embedded workspace a seeding command acts on: the named registry entry, or the default. */
function localDir(homeDir: string, name: string | undefined): { dir: string; entry: WorkspaceEntry } {
  const { paths, config } = requireHome(homeDir);
  const registry = readRegistry(paths, config);
  if (name !== undefined && !registry.has(name))
    throw new CliError(
      `--workspace "${name}" is not in the registry`,
      2,
      `use one of: ${registry.entries.map((e) => e.name).join(", ")} (gsmcp workspace list)`,
    );
  const entry = registry.resolve(name);
  if (entry.backend !== "local" || !entry.local_dir)
    throw new CliError(
      `workspace "${entry.name}" is an Azure workspace, not an embedded one`,
      2,
      `name a local workspace with --workspace (${registry.entries
        .filter((e) => e.backend === "local")
        .map((e) => e.name)
        .join(", ")})`,
    );
  return { dir: join(paths.root, entry.local_dir), entry };
}

/** The seed the workspace was last seeded with (so reseeding a named workspace keeps its own data), else 1. */
function currentSeed(dir: string): number {
  const store = new WorkspaceStore(join(dir, "workspace.db"));
  try {
    const meta = store.meta("seed");
    const seed = meta ? (JSON.parse(meta) as { seed?: unknown }).seed : undefined;
    return typeof seed === "number" && Number.isInteger(seed) ? seed : 1;
  } finally {
    store.close();
  }
}

const WORKSPACE_OPTION = ["--workspace <name>", "the registry workspace (default: the default one)"] as const;

export function registerWorkspaceCommands(program: Command, home: () => string): void {
  const ws = program.command("workspace").description("the embedded local Sentinel workspace");
  ws.command("start")
    .option("--port <n>", "port on 127.0.0.1 (0 = any free port)", "0")
    .option(...WORKSPACE_OPTION)
    .option("--json", "print where it listens as JSON, then run (schemas/cli/workspace-start.schema.json)")
    .description("run a local workspace in the foreground (for SDK tools and tests)")
    .action(async (o: { port: string; workspace?: string; json?: boolean }) => {
      const port = /^\d+$/.test(o.port.trim()) ? Number(o.port) : Number.NaN;
      if (!Number.isInteger(port) || port > 65535)
        throw new CliError(`--port "${o.port}" is not a port`, 2, "use 0 (any free port) or 1-65535");
      const { dir, entry } = localDir(home(), o.workspace);
      const handle = await startWorkspace(dir, { port });
      if (o.json)
        printJson({
          workspace: entry.name,
          url: handle.url,
          workspace_name: handle.ids.workspaceName,
          workspace_id: handle.ids.workspaceId,
        } satisfies WorkspaceStartOutput);
      else
        out(
          `local Sentinel workspace ${entry.name} at ${handle.url} (workspace ${handle.ids.workspaceName}, id ${handle.ids.workspaceId})`,
        );
      if (!o.json) out("press Ctrl+C to stop");
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await handle.close();
    });
  ws.command("seed")
    .option("--seed <n>", "PRNG seed (same seed, same data; default: the workspace's current seed, else 1)")
    .option("--size <size>", `${SIZES.join("|")} or a row count`, "demo")
    .option(...WORKSPACE_OPTION)
    .option("--json", "JSON output (schemas/cli/workspace-seed.schema.json)")
    .option("--quiet", "no progress bar (there is none unless stderr is a terminal, nor under CI=true)")
    .description("replace a local workspace's data with a deterministic seeded data set")
    .action(async (o: { seed?: string; size: string; workspace?: string; json?: boolean; quiet?: boolean }) => {
      const size = parseSize(o.size);
      const { dir, entry } = localDir(home(), o.workspace);
      const seed =
        o.seed === undefined ? currentSeed(dir) : /^-?\d+$/.test(o.seed.trim()) ? Number(o.seed) : Number.NaN;
      if (!Number.isSafeInteger(seed))
        throw new CliError(`--seed "${o.seed}" is not an integer`, 2, "give an integer, e.g. --seed 7");
      const r = await withProgress("workspace seed", o, (onProgress) => seedWorkspace(dir, { seed, size, onProgress }));
      if (o.json)
        return printJson({
          workspace: entry.name,
          seed,
          size,
          incidents: r.incidents,
          log_rows: r.logRows,
        } satisfies WorkspaceSeedOutput);
      out(`seeded workspace ${entry.name} (seed ${seed}, size ${o.size})`);
    });
  ws.command("reset")
    .option(...WORKSPACE_OPTION)
    .option("--json", "JSON output (schemas/cli/workspace-reset.schema.json)")
    .description("delete all data of a local workspace (incidents, rules, logs); keeps the certificate and secret")
    .action(async (o: { workspace?: string; json?: boolean }) => {
      const { dir, entry } = localDir(home(), o.workspace);
      await resetWorkspace(dir);
      if (o.json) return printJson({ workspace: entry.name } satisfies WorkspaceResetOutput);
      out(`workspace ${entry.name} reset`);
    });

  ws.command("add <name>")
    .description("register an Azure Sentinel workspace (with Azure Lighthouse: a customer's delegated workspace)")
    .option("--tenant <id>", "the Entra tenant id the workspace belongs to (the customer's)")
    .option("--subscription <id>", "subscription id")
    .option("--resource-group <name>", "resource group")
    .option("--workspace-name <name>", "Log Analytics workspace name")
    .option("--workspace-id <id>", "workspace id (customerId)")
    .option("--credential <kind>", `${CREDENTIALS.join("|")} (default: default)`)
    .option("--client-id <id>", "client id of the user-assigned managed identity (with --credential managed-identity)")
    .option("--default", "calls that name no workspace target this one")
    .option("--json", "JSON output (schemas/cli/workspace-add.schema.json)")
    .action((name: string, o: AddOptions & { json?: boolean }) => {
      const { paths, config } = requireHome(home());
      const registry = readRegistry(paths, config);
      if (registry.has(name))
        throw new CliError(
          `NAME "${name}" is already in the registry`,
          2,
          `choose another name, or "gsmcp workspace remove ${name}" first`,
        );
      const entry = azureEntry(name, o);
      const others = registry.entries.map((e) => {
        if (!entry.default || !e.default) return e;
        const { default: _, ...rest } = e;
        return rest;
      });
      // A home without a file had its one workspace implied; it is written out, still the default unless --default.
      saveRegistry(paths, [...others, entry]);
      if (o.json)
        return printJson({
          workspace: { ...entry, default: readRegistry(paths, config).defaultEntry.name === name },
        } satisfies WorkspaceAddOutput);
      out(
        `added workspace ${name} (tenant ${entry.tenant}, ${entry.workspace_name})${entry.default ? ", default" : ""}`,
      );
    });
  ws.command("list")
    .description("the registered workspaces: name, tenant, backend, workspace name, default")
    .option("--json", "JSON output (schemas/cli/workspace-list.schema.json)")
    .action((o: { json?: boolean }) => {
      const { paths, config } = requireHome(home());
      const registry = readRegistry(paths, config);
      const def = registry.defaultEntry.name;
      const rows = registry.entries.map((e) => ({ ...e, default: e.name === def }));
      if (o.json) return printJson({ workspaces: rows } satisfies WorkspaceListOutput);
      const header = ["NAME", "TENANT", "BACKEND", "WORKSPACE", "DEFAULT"];
      const table = [header, ...rows.map((r) => [r.name, r.tenant, r.backend, r.workspace_name, r.default ? "*" : ""])];
      const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
      for (const r of table)
        out(
          r
            .map((c, i) => c.padEnd(widths[i]!))
            .join("  ")
            .trimEnd(),
        );
    });
  ws.command("remove <name>")
    .description("unregister a workspace (an embedded workspace's data stay in its directory)")
    .option("--json", "JSON output (schemas/cli/workspace-remove.schema.json)")
    .action((name: string, o: { json?: boolean }) => {
      const { paths, config } = requireHome(home());
      const registry = readRegistry(paths, config);
      if (!registry.has(name))
        throw new CliError(
          `NAME "${name}" is not in the registry`,
          2,
          `use one of: ${registry.entries.map((e) => e.name).join(", ")} (gsmcp workspace list)`,
        );
      if (registry.entries.length === 1)
        throw new CliError(
          `NAME "${name}" is the last workspace in the registry`,
          2,
          "add another workspace first (gsmcp workspace add), then remove this one",
        );
      const wasDefault = registry.defaultEntry.name === name;
      let rest = registry.entries.filter((e) => e.name !== name);
      if (wasDefault) rest = rest.map((e, i) => (i === 0 ? { ...e, default: true } : e));
      saveRegistry(paths, rest);
      const nowDefault = readRegistry(paths, config).defaultEntry.name;
      if (o.json) return printJson({ removed: name, default: nowDefault } satisfies WorkspaceRemoveOutput);
      out(`removed workspace ${name}`);
      if (wasDefault) out(`the default workspace is now ${rest[0]!.name}`);
    });
}
