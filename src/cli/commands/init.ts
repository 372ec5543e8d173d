import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { SigningKey } from "../../crypto/keys.js";
import { ensureDir, type HomeConfig, homePaths, writeSecret } from "../../governance/home.js";
import { secureHome } from "../../governance/home-permissions.js";
import { policyHash, readPolicyDocument, signPolicy, storePolicy } from "../../governance/policy.js";
import { createSigningKey, type TrustStoreFile } from "../../governance/trust.js";
import { type WorkspaceEntry, writeRegistry } from "../../registry/workspaces.js";
import { openStateDb } from "../../state/db.js";
import { initWorkspace } from "../../workspace/index.js";
import { CliError } from "../output.js";

/** The package root: three levels up from src/cli/commands/ in a checkout, and from dist/cli/commands/ when built. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const EXAMPLE_POLICIES_DIR = join(REPO_ROOT, "examples", "policies");

/**
 * The embedded workspaces init creates: two customers in two tenants, each with its own seeded data (the seed of the
 * second is the first's + 1, so their incidents differ). The first is the default and lives where the single
 * workspace always did (GSMCP_HOME/workspace).
 */
export const LOCAL_WORKSPACES = [
  { name: "contoso", dir: "workspace", seedOffset: 0 },
  { name: "fabrikam", dir: "workspace-fabrikam", seedOffset: 1 },
] as const;

export interface InitResult {
  home: string;
  config: HomeConfig;
  policies: { name: string; file: string; hash: string }[];
  /** The registry written to GSMCP_HOME/workspaces.json. */
  workspaces: WorkspaceEntry[];
  reused: boolean;
}

/**
 * Creates GSMCP_HOME: keys per role, trust store, config, state db, signed example policies, and the workspace
 * registry with two seeded embedded workspaces in two tenants (contoso, the default, and fabrikam). The
 * home and its directories end up 0700 and every file in it 0600, also when the directory existed before.
 */
export async function initHome(home: string, opts: { force?: boolean; seed?: number } = {}): Promise<InitResult> {
  const paths = homePaths(home);
  if (existsSync(paths.config) && !opts.force) {
    throw new CliError(
      `${paths.root} is already initialised`,
      1,
      "use --force to recreate it (this discards its keys, receipts and workspace)",
    );
  }
  if (opts.force && existsSync(paths.root)) {
    for (const entry of readdirSync(paths.root)) rmSync(join(paths.root, entry), { recursive: true, force: true });
  }
  for (const d of [
    paths.root,
    paths.keys,
    paths.policies,
    paths.telemetry,
    paths.workspace,
    paths.tokens,
    paths.proofs,
  ])
    ensureDir(d);
  // Owner-only before anything is written (a directory that existed may have been 0755), and again at the end for
  // every file written since: keys, trust, config, policies, state.db, workspace, and whatever was already there.
  secureHome(paths);

  const policySigner = createSigningKey(paths, "policySigner", "local policy signer");
  const tokenIssuer = createSigningKey(paths, "tokenIssuer", "gsmcp-local-issuer");
  const approver = createSigningKey(paths, "approver", "local approver");
  const receiptSigner = createSigningKey(paths, "receiptSigner", "local receipt signer");
  const clientAssertion = createSigningKey(paths, "clientAssertionSigner", "MCP client assertions (elicitation)");
  const trust: TrustStoreFile = {
    policy_signers: [policySigner.entry],
    token_issuers: [tokenIssuer.entry],
    approvers: [approver.entry],
    receipt_signers: [receiptSigner.entry],
    client_assertion_signers: [clientAssertion.entry],
  };
  writeFileSync(paths.trust, `${JSON.stringify(trust, null, 2)}\n`);
  // Operator token for the HTTP admin endpoint (response playbooks pause jobs with it).
  writeSecret(join(paths.keys, "admin-token"), randomBytes(32).toString("base64url"));

  // Two embedded workspaces in two tenants (tenant ids random, fixed here), registered by name.
  const seed = opts.seed ?? 1;
  const workspaces: WorkspaceEntry[] = [];
  for (const [i, w] of LOCAL_WORKSPACES.entries()) {
    const { ids } = await initWorkspace(join(paths.root, w.dir), {
      seed: seed + w.seedOffset,
      name: w.name,
      force: true,
    });
    workspaces.push({
      name: w.name,
      tenant: randomUUID(),
      backend: "local",
      subscription: ids.subscriptionId,
      resource_group: ids.resourceGroup,
      workspace_name: ids.workspaceName,
      workspace_id: ids.workspaceId,
      local_dir: w.dir,
      default: i === 0,
    });
  }
  writeRegistry(paths, workspaces);
  const serverId = randomUUID();
  const config: HomeConfig = {
    server_id: serverId,
    audience: `urn:gsmcp:server:${serverId}`,
    token_issuer: tokenIssuer.entry.name,
    backend: "local",
    workspace_name: workspaces[0]!.name,
    created_at: new Date().toISOString(),
  };
  writeFileSync(paths.config, `${JSON.stringify(config, null, 2)}\n`);
  openStateDb(paths.stateDb).close();

  const policies = signExamplePolicies(paths, policySigner.key);
  secureHome(paths);
  return { home: paths.root, config, policies, workspaces, reused: false };
}

function signExamplePolicies(paths: ReturnType<typeof homePaths>, key: SigningKey) {
  const out: InitResult["policies"] = [];
  for (const file of readdirSync(EXAMPLE_POLICIES_DIR).filter((f) => f.endsWith(".wpc.json"))) {
    const { wpc } = readPolicyDocument(join(EXAMPLE_POLICIES_DIR, file));
    const env = signPolicy(wpc, [key]);
    const hash = policyHash(wpc);
    const stored = storePolicy(paths, env, hash);
    // Also keep a readable name-addressed copy of the envelope next to the store.
    writeFileSync(
      join(paths.policies, `${basename(file, ".wpc.json")}.dsse.json`),
      `${JSON.stringify(env, null, 2)}\n`,
    );
    out.push({ name: wpc.policy_name, file: stored, hash });
  }
  return out;
}
