import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { GovernanceError } from "./errors.js";

/** Where everything lives under GSMCP_HOME. One place, so no module invents its own paths. */
export interface HomePaths {
  root: string;
  config: string;
  trust: string;
  keys: string;
  policies: string;
  stateDb: string;
  telemetry: string;
  workspace: string;
  tokens: string;
  proofs: string;
}

export function homePaths(root: string): HomePaths {
  const r = resolve(root);
  return {
    root: r,
    config: join(r, "config.json"),
    trust: join(r, "trust.json"),
    keys: join(r, "keys"),
    policies: join(r, "policies"),
    stateDb: join(r, "state.db"),
    telemetry: join(r, "telemetry"),
    workspace: join(r, "workspace"),
    tokens: join(r, "tokens"),
    proofs: join(r, "proofs"),
  };
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.GSMCP_HOME && env.GSMCP_HOME.length > 0 ? env.GSMCP_HOME : ".gsmcp");
}

/** The configuration written by `init`. */
export interface HomeConfig {
  server_id: string;
  audience: string;
  token_issuer: string;
  backend: "local" | "azure";
  /** Name of the workspace calls target by default (the local workspace's, or the Azure one's). */
  workspace_name: string;
  created_at: string;
}

/** Opens an initialised home or fails with what to do. */
export function requireHome(root: string): { paths: HomePaths; config: HomeConfig } {
  const paths = homePaths(root);
  if (!existsSync(paths.config)) {
    throw new GovernanceError(
      "home_missing",
      `GSMCP_HOME ${paths.root} is not initialised (no config.json)`,
      `run "gsmcp init" (or set GSMCP_HOME to an initialised directory)`,
    );
  }
  const config = JSON.parse(readFileSync(paths.config, "utf8")) as HomeConfig;
  return { paths, config };
}

export function ensureDir(dir: string, mode = 0o700): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode });
  else if (!statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
}

/** Writes a secret file readable by the owner only. */
export function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
}
