import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { SigningKey } from "../crypto/keys.js";
import type { HomeConfig, HomePaths } from "../governance/home.js";
import { loadPolicy } from "../governance/policy.js";
import { TrustStore } from "../governance/trust.js";
import { readRegistry, type WorkspaceEntry } from "../registry/workspaces.js";
import type { SentinelBackend } from "../sentinel/backend.js";
import { createKqlFactsAnalyzer } from "../sentinel/kql-facts.js";
import { openBackendFor } from "../sentinel/open.js";
import type { StateStore } from "../state/contract.js";
import { createConsole, type SignIn } from "./app.js";
import type { ContextDeps } from "./context.js";
import { previewForApproval } from "./rule-preview.js";

export interface RunConsoleOptions {
  paths: HomePaths;
  config: HomeConfig;
  state: StateStore;
  approverKey: SigningKey;
  signIn: SignIn;
  redirectUri: string;
  host: string;
  port: number;
  /** The public origin when behind a TLS proxy (https://…); default http://host:port. */
  publicUrl?: string;
  now?: () => number;
}

export interface RunningConsole {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * The console's view of Sentinel: one backend per registry workspace, opened on first use and kept; the impact preview
 * runs each rule under the requesting job's policy (its analysis, redaction and time limit), never charged to the job.
 */
export function consoleContext(paths: HomePaths, config: HomeConfig): ContextDeps & { close(): Promise<void> } {
  const registry = readRegistry(paths, config);
  const backends = new Map<string, Promise<SentinelBackend>>();
  const backendOf = (entry: WorkspaceEntry) => {
    let b = backends.get(entry.name);
    if (!b) {
      b = openBackendFor(paths, entry);
      backends.set(entry.name, b);
    }
    return b;
  };
  const analyzer = createKqlFactsAnalyzer(() => backendOf(registry.defaultEntry));
  return {
    backend: (workspace) => backendOf(registry.resolve(workspace)),
    async preview(rule, approval) {
      const args = (approval.args_redacted ?? {}) as Record<string, unknown>;
      const entry = registry.resolve(typeof args.workspace === "string" ? args.workspace : undefined);
      const policy = loadPolicy(approval.policy_hash, paths, TrustStore.load(paths));
      return previewForApproval({
        policy,
        rule,
        target: entry.backend === "azure" ? await backendOf(entry) : join(paths.root, entry.local_dir ?? "workspace"),
        analyzeKql: analyzer,
        op: approval.op === "analyticsRules.update" ? "analyticsRules.update" : "analyticsRules.create",
        workspace: entry.name,
        tenant: entry.tenant,
      });
    },
    async close() {
      await analyzer.close();
      for (const b of backends.values()) await (await b.catch(() => undefined))?.close();
    },
  };
}

export async function runConsole(o: RunConsoleOptions): Promise<RunningConsole> {
  const context = consoleContext(o.paths, o.config);
  const origin = o.publicUrl ? new URL(o.publicUrl).origin : undefined;
  const app = createConsole({
    paths: o.paths,
    config: o.config,
    state: o.state,
    approverKey: o.approverKey,
    signIn: o.signIn,
    redirectUri: o.redirectUri,
    context,
    ...(origin ? { origin } : {}),
    secure: origin?.startsWith("https:") ?? false,
    ...(o.now ? { now: o.now } : {}),
  });
  const server = createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 16 * 1024 },
    (req, res) => {
      void app.handle(req, res);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  return {
    url: origin ?? `http://${host}:${port}`,
    server,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await context.close();
    },
  };
}
