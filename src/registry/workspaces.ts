import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { GovernanceError } from "../governance/errors.js";
import { type HomeConfig, type HomePaths, writeSecret } from "../governance/home.js";
import { formatZodError } from "../governance/stages/admit.js";

// The workspace registry: every Sentinel workspace this server may reach, by name, with the tenant it belongs to. A
// tool's `workspace` argument names an entry; the policy and the token constrain names and tenants; every receipt and
// event records both. GSMCP_HOME/workspaces.json (0600), managed with `gsmcp workspace add|list|remove`.

export const REGISTRY_FILE = "workspaces.json";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/; // the tools' workspace argument pattern

export const WorkspaceEntrySchema = z
  .object({
    /** The name tools, policies and tokens use. */
    name: z.string().regex(NAME, "letters, digits, _ and - (1-63, starting with a letter or digit)"),
    /** The Entra tenant the workspace belongs to (a GUID in Azure; any label for the embedded workspaces). */
    tenant: z.string().min(1).max(128),
    backend: z.enum(["local", "azure"]),
    subscription: z.string().min(1),
    resource_group: z.string().min(1),
    workspace_name: z.string().min(1),
    workspace_id: z.string().min(1),
    /** local: the embedded workspace's directory, relative to GSMCP_HOME. */
    local_dir: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, "one directory name inside GSMCP_HOME (no path, no ..)")
      .optional(),
    /**
     * azure: which credential reaches it — "default" (DefaultAzureCredential: managed identity, workload identity,
     * CLI), or "managed-identity" with client_id (a user-assigned identity). With Azure Lighthouse the identity lives
     * in the MSSP's tenant and the delegation gives it access to the customer's workspace.
     */
    credential: z.enum(["default", "managed-identity"]).optional(),
    client_id: z.string().min(1).optional(),
    /**
     * azure: the tenant's own Logs Ingestion endpoint (data collection endpoint, DCR immutable id, stream): the events
     * of this workspace's calls go there (local workspaces take their events on their own embedded endpoint).
     */
    ingestion: z
      .object({
        endpoint: z.string().url(),
        dcr_immutable_id: z.string().min(1),
        stream: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** Calls that name no workspace target the default one. */
    default: z.boolean().optional(),
  })
  .strict();

export type WorkspaceEntry = z.infer<typeof WorkspaceEntrySchema>;

const RegistryFileSchema = z
  .object({ version: z.literal(1), workspaces: z.array(WorkspaceEntrySchema).min(1) })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    for (const w of f.workspaces) {
      if (seen.has(w.name)) ctx.addIssue({ code: "custom", message: `workspace "${w.name}" is listed twice` });
      seen.add(w.name);
      if (w.backend === "local" && !w.local_dir)
        ctx.addIssue({ code: "custom", message: `workspace "${w.name}": a local workspace needs local_dir` });
      if (w.credential === "managed-identity" && !w.client_id)
        ctx.addIssue({ code: "custom", message: `workspace "${w.name}": credential managed-identity needs client_id` });
    }
    if (f.workspaces.filter((w) => w.default).length > 1)
      ctx.addIssue({ code: "custom", message: "more than one workspace is marked default" });
  });

export type RegistryFile = z.infer<typeof RegistryFileSchema>;

export class WorkspaceRegistry {
  private readonly byName: Map<string, WorkspaceEntry>;

  constructor(readonly entries: WorkspaceEntry[]) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  /** The default workspace: the one marked default, else the first. */
  get defaultEntry(): WorkspaceEntry {
    return this.entries.find((e) => e.default) ?? this.entries[0]!;
  }

  /** The entry a call names (or the default); an unknown name is refused with the names that exist. */
  resolve(name?: string): WorkspaceEntry {
    if (name === undefined) return this.defaultEntry;
    const e = this.byName.get(name);
    if (!e)
      throw new GovernanceError(
        "workspace_unknown",
        `no workspace named "${name}" in the registry`,
        `use one of: ${this.entries.map((x) => x.name).join(", ")} (gsmcp workspace list)`,
      );
    return e;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }
}

/** Parses a registry file's text; every problem names its field. */
export function parseRegistry(text: string, where: string): WorkspaceEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new GovernanceError("home_missing", `${where} is not JSON: ${(e as Error).message}`, "fix or remove it");
  }
  const parsed = RegistryFileSchema.safeParse(doc);
  if (!parsed.success)
    throw new GovernanceError(
      "home_missing",
      `${where} is not a valid workspace registry: ${formatZodError(parsed.error)}`,
      "fix it, or manage it with gsmcp workspace add|remove",
    );
  return parsed.data.workspaces;
}

/**
 * The home's registry. A home made before the registry existed has no file: its one workspace (config.json's backend
 * and workspace name; Azure ids from the environment as before) is the registry, with tenant AZURE_TENANT_ID or
 * "local".
 */
export function readRegistry(
  paths: HomePaths,
  config: HomeConfig,
  env: NodeJS.ProcessEnv = process.env,
): WorkspaceRegistry {
  const file = join(paths.root, REGISTRY_FILE);
  if (existsSync(file)) return new WorkspaceRegistry(parseRegistry(readFileSync(file, "utf8"), file));
  const tenant = env.AZURE_TENANT_ID ?? "local";
  if (config.backend === "azure")
    return new WorkspaceRegistry([
      {
        name: env.SENTINEL_WORKSPACE_NAME ?? config.workspace_name,
        tenant,
        backend: "azure",
        subscription: env.AZURE_SUBSCRIPTION_ID ?? "-",
        resource_group: env.AZURE_RESOURCE_GROUP ?? "-",
        workspace_name: env.SENTINEL_WORKSPACE_NAME ?? config.workspace_name,
        workspace_id: env.SENTINEL_WORKSPACE_ID ?? "-",
        default: true,
      },
    ]);
  return new WorkspaceRegistry([
    {
      name: config.workspace_name,
      tenant,
      backend: "local",
      subscription: "-",
      resource_group: "-",
      workspace_name: config.workspace_name,
      workspace_id: "-",
      local_dir: "workspace",
      default: true,
    },
  ]);
}

/** Writes the registry (validated first) owner-only. */
export function writeRegistry(paths: HomePaths, entries: WorkspaceEntry[]): void {
  const file = join(paths.root, REGISTRY_FILE);
  const text = `${JSON.stringify({ version: 1, workspaces: entries }, null, 2)}\n`;
  parseRegistry(text, file);
  writeSecret(file, text);
}
