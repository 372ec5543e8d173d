import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type IdentityConfig, readIdentityConfig } from "./arm-authorization.js";
import { type FaultConfig, faultsFromEnv } from "./faults.js";
import type { WorkspaceIds } from "./ids.js";
import { type SeedOptions, type SeedSize, seedStore } from "./seed.js";
import { type QueryPoolOptions, type RunningServer, startServer } from "./server.js";
import { WorkspaceStore } from "./store.js";
import { makeLoopbackCertificate } from "./tls.js";

export { createLocalClients, localClientOptions } from "./client-options.js";
export type { FaultConfig } from "./faults.js";
export type { WorkspaceIds } from "./ids.js";
export { LOG_TABLES, STORED_FUNCTIONS } from "./schemas.js";

export interface WorkspaceInfo {
  dir: string;
  ids: WorkspaceIds;
}

export interface WorkspaceHandle extends WorkspaceInfo {
  url: string;
  caPem: string;
  secret: string;
  store: WorkspaceStore;
  /** The role sets its bearer secret holds (identity.json); undefined: none configured. */
  identity?: IdentityConfig;
  setFaults(f: FaultConfig): void;
  /** The query worker pool (tests and the bench watch it). */
  queryPool: RunningServer["queryPool"];
  close(): Promise<void>;
}

const files = (dir: string) => ({
  cert: join(dir, "cert.pem"),
  key: join(dir, "key.pem"),
  secret: join(dir, "secret"),
  ids: join(dir, "ids.json"),
  db: join(dir, "workspace.db"),
});

/**
 * Creates the workspace in `dir`: certificate, bearer secret, ids and a seeded SQLite store. `name` is the workspace
 * name in its ARM paths (init uses the registry name; default "gsmcp-local").
 */
export async function initWorkspace(
  dir: string,
  opts: { seed?: number; size?: SeedSize; force?: boolean; now?: number; name?: string } = {},
): Promise<WorkspaceInfo> {
  const f = files(dir);
  if (existsSync(f.ids) && !opts.force) return { dir, ids: JSON.parse(readFileSync(f.ids, "utf8")) as WorkspaceIds };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const p of [f.db, `${f.db}-wal`, `${f.db}-shm`]) rmSync(p, { force: true });
  const { key, cert } = makeLoopbackCertificate();
  writeFileSync(f.key, key, { mode: 0o600 });
  writeFileSync(f.cert, cert);
  writeFileSync(f.secret, randomBytes(32).toString("base64url"), { mode: 0o600 });
  const ids: WorkspaceIds = {
    subscriptionId: randomUUID(),
    resourceGroup: "rg-gsmcp-local",
    workspaceName: opts.name ?? "gsmcp-local",
    workspaceId: randomUUID(),
    dcrImmutableId: `dcr-${randomBytes(16).toString("hex")}`,
    streamName: "Custom-AgentSecurityEvent_CL",
  };
  writeFileSync(f.ids, `${JSON.stringify(ids, null, 2)}\n`);
  await seedWorkspace(dir, {
    seed: opts.seed ?? 1,
    size: opts.size ?? "demo",
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  });
  return { dir, ids };
}

export async function seedWorkspace(dir: string, opts: SeedOptions): Promise<{ incidents: number; logRows: number }> {
  const store = new WorkspaceStore(files(dir).db);
  try {
    return seedStore(store, opts);
  } finally {
    store.close();
  }
}

export async function resetWorkspace(dir: string): Promise<void> {
  const store = new WorkspaceStore(files(dir).db);
  store.clearAll();
  store.close();
}

/** Starts the HTTPS workspace on 127.0.0.1 (port 0: any free port). */
export async function startWorkspace(
  dir: string,
  opts: { port?: number; faults?: FaultConfig; queryPool?: QueryPoolOptions; identity?: IdentityConfig } = {},
): Promise<WorkspaceHandle> {
  const f = files(dir);
  if (!existsSync(f.ids)) throw new Error(`no local workspace in ${dir}; run "gsmcp init"`);
  // The role sets its bearer secret holds: the option, else identity.json (a bad file stops here, naming the field).
  const identity = opts.identity ?? readIdentityConfig(dir);
  const ids = JSON.parse(readFileSync(f.ids, "utf8")) as WorkspaceIds;
  const store = new WorkspaceStore(f.db);
  const caPem = readFileSync(f.cert, "utf8");
  const secret = readFileSync(f.secret, "utf8").trim();
  const server = await startServer({
    store,
    ids,
    key: readFileSync(f.key, "utf8"),
    cert: caPem,
    secret,
    port: opts.port ?? 0,
    faults: opts.faults ?? faultsFromEnv(),
    ...(opts.queryPool ? { queryPool: opts.queryPool } : {}),
    // Re-read on each permissions request, as Azure answers role assignments made since (tests change it live).
    identity: opts.identity ? () => opts.identity : () => readIdentityConfig(dir),
  });
  return {
    dir,
    ids,
    url: server.url,
    caPem,
    secret,
    store,
    ...(identity ? { identity } : {}),
    setFaults: server.setFaults,
    queryPool: server.queryPool,
    async close() {
      await server.close();
      store.close();
    },
  };
}
