import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type NotifyConfig, parseNotifyConfig } from "../notify/approval-notice.js";
import { NotifyError } from "../notify/webhook.js";
import { parseCidr } from "../server/client-address.js";
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
  /** Limits of `gsmcp serve --transport http` (each optional; `serve` flags override them, see docs/operations.md). */
  http?: HttpConfig;
  /** Approval webhooks (`gsmcp serve` sends approval_required, `gsmcp console` reminders; see docs/notifications.md). */
  notify?: NotifyConfig;
}

/** config.json `http`: the HTTP transport's limits. Rates are requests per second; bursts are requests at once. */
export interface HttpConfig {
  /** Authenticated requests per token (CST jti). */
  rate?: number;
  burst?: number;
  /** Authenticated requests per job (all its tokens together). */
  job_rate?: number;
  job_burst?: number;
  /** Requests without a valid token, per client address. */
  unauth_rate?: number;
  unauth_burst?: number;
  /** Open sessions in the server, and per job. */
  max_sessions?: number;
  max_sessions_per_job?: number;
  /** A session without a request for this long is closed. */
  session_idle_seconds?: number;
  /** Reverse proxies / load balancers (CIDRs or addresses) whose X-Forwarded-For is believed. */
  trusted_proxies?: string[];
}

/** A configuration value out of range, naming the field (or flag) and the fix. */
export class HttpConfigError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

type HttpField = keyof HttpConfig;
const HTTP_FIELDS: Record<HttpField, { kind: "rate" | "count" | "seconds" | "cidrs"; flag: string }> = {
  rate: { kind: "rate", flag: "--rate" },
  burst: { kind: "count", flag: "--burst" },
  job_rate: { kind: "rate", flag: "--job-rate" },
  job_burst: { kind: "count", flag: "--job-burst" },
  unauth_rate: { kind: "rate", flag: "--unauth-rate" },
  unauth_burst: { kind: "count", flag: "--unauth-burst" },
  max_sessions: { kind: "count", flag: "--max-sessions" },
  max_sessions_per_job: { kind: "count", flag: "--max-sessions-per-job" },
  session_idle_seconds: { kind: "seconds", flag: "--session-idle-seconds" },
  trusted_proxies: { kind: "cidrs", flag: "--trusted-proxy" },
};

/** The `serve` flag that sets an HTTP config field. */
export function httpFlagOf(field: HttpField): string {
  return HTTP_FIELDS[field].flag;
}

/**
 * One HTTP limit, checked: `name` is what the operator wrote it as (a flag, or config.json's field), so the error
 * names it. Rates: > 0 and ≤ 1e9 per second; counts: whole numbers 1…1e9; idle timeout: 1 s…7 days; proxies: CIDRs.
 */
export function checkHttpField<F extends HttpField>(
  field: F,
  value: unknown,
  name: string,
): NonNullable<HttpConfig[F]> {
  const { kind } = HTTP_FIELDS[field];
  const got = typeof value === "string" ? `"${value}"` : JSON.stringify(value);
  if (kind === "cidrs") {
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
      throw new HttpConfigError(`${name} must be a list of CIDRs (got ${got})`, 'e.g. ["10.0.0.0/8", "::1"]');
    for (const v of value as string[])
      if (!parseCidr(v))
        throw new HttpConfigError(
          `${name}: "${v}" is not a CIDR or an IP address`,
          "give the proxy's address or network, e.g. 10.0.0.5 or 10.0.0.0/8 or fd00::/8",
        );
    return value as NonNullable<HttpConfig[F]>;
  }
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  // How to write a good value where the bad one was: a flag, or the config.json field.
  const eg = (v: string) => `e.g. ${name.startsWith("--") ? `${name} ${v}` : `"${field}": ${v}`}`;
  const sample = { rate: "20", count: "100", seconds: "900" }[kind];
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw new HttpConfigError(`${name} must be a number (got ${got})`, eg(sample));
  }
  if (kind === "rate" && (n <= 0 || n > 1e9))
    throw new HttpConfigError(
      `${name} must be a rate in requests per second, > 0 and ≤ 1e9 (got ${got})`,
      `${eg("20")} (fractions allowed: 0.5 is one request every 2 s)`,
    );
  if (kind === "count" && (!Number.isInteger(n) || n < 1 || n > 1e9))
    throw new HttpConfigError(`${name} must be a whole number from 1 to 1e9 (got ${got})`, eg("100"));
  if (kind === "seconds" && (n < 1 || n > 604_800))
    throw new HttpConfigError(
      `${name} must be seconds from 1 to 604800 (7 days) (got ${got})`,
      `${eg("900")} (15 minutes)`,
    );
  return n as NonNullable<HttpConfig[F]>;
}

/** config.json's `http` section, checked field by field (unknown fields are refused: a typo must not go unnoticed). */
export function validateHttpConfig(raw: unknown, where = "config.json"): HttpConfig {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new HttpConfigError(
      `${where} "http" must be an object (got ${JSON.stringify(raw)})`,
      "see docs/operations.md",
    );
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in HTTP_FIELDS))
      throw new HttpConfigError(
        `${where} http.${k} is not an HTTP setting`,
        `use one of ${Object.keys(HTTP_FIELDS).join(", ")} (see docs/operations.md)`,
      );
    out[k] = checkHttpField(k as HttpField, v, `${where} http.${k}`);
  }
  return out as HttpConfig;
}

/** config.json's `notify` block is wrong: the message names every bad field (`config.json notify.<field>`). */
export class NotifyConfigError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/**
 * config.json's `notify` section, checked with the notify schema (every bad field reported; unknown fields refused;
 * `console_url` required with a webhook). Undefined when there is none. The secret's variable is checked when the
 * sender is built (`webhookSenderFromConfig`), where the environment is known.
 */
export function validateNotifyConfig(raw: unknown, where = "config.json"): NotifyConfig | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new NotifyConfigError(
      `${where} "notify" must be an object (got ${JSON.stringify(raw)})`,
      'e.g. "notify": {"webhook": {"url": "https://…", "secret_env": "GSMCP_WEBHOOK_SECRET"}, "console_url": "https://…"} (see docs/notifications.md)',
    );
  try {
    return parseNotifyConfig(raw);
  } catch (e) {
    if (!(e instanceof NotifyError)) throw e;
    // Each problem starts with the field it names (`notify.webhook.url …`): say which file it is in.
    const problems = e.message.replace(/^invalid notify configuration: /, "");
    throw new NotifyConfigError(
      problems.replace(/(^|; )notify\./g, `$1${where} notify.`),
      `correct the field(s) named in the notify block of ${where} (see docs/notifications.md)`,
    );
  }
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
  // The mode applies only when the file is created: an existing file (a rewrite) is made owner-only too.
  chmodSync(path, 0o600);
}
