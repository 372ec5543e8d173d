import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import type { DsseEnvelope } from "../../crypto/dsse.js";
import { keyIdOf, publicKeyFromPem, signingKeyFromPem } from "../../crypto/keys.js";
import { GovernanceError } from "../../governance/errors.js";
import { type HomePaths, HttpConfigError, homePaths, validateHttpConfig } from "../../governance/home.js";
import { findUnsafe } from "../../governance/home-permissions.js";
import { verifyEnvelope } from "../../governance/policy.js";
import {
  describeWindow,
  KEY_FILES,
  type KeyName,
  keyValidAt,
  keyWindow,
  TRUST_ROLES,
  type TrustedKey,
  type TrustRole,
  TrustStore,
  type TrustStoreFile,
} from "../../governance/trust.js";
import { doctorIdentityChecks } from "../../rbac/check.js";
import { type ChainProblem, verifyStoredLog, verifyStoredRows } from "../../receipts/verify-chain.js";
import { type Db, openStateDb, STATE_SCHEMA_VERSION } from "../../state/db.js";
import { allRows } from "../../state/pages.js";
import { CliError, out } from "../output.js";

// `gsmcp doctor`: is this GSMCP_HOME safe to run from? Each check reports ok / warn / unsafe with a one-line fix.
// It only reads: the state database is opened read-only (not migrated), nothing is chmod-ed or rewritten.

export type DoctorStatus = "ok" | "warn" | "unsafe";

export interface DoctorCheck {
  /** Stable name: home, permissions, key:<file>, trust, policies, receipts, config, tokens, token-files, state. */
  check: string;
  status: DoctorStatus;
  /** One line: what was found. */
  message: string;
  /** One line: what to do (absent when status is ok). */
  fix?: string;
  /** Every finding behind the message, when there are several. */
  details?: string[];
}

/** Which trust role each key file under keys/ plays. */
const KEY_ROLES: Record<KeyName, TrustRole> = {
  policySigner: "policy_signers",
  tokenIssuer: "token_issuers",
  approver: "approvers",
  receiptSigner: "receipt_signers",
  clientAssertionSigner: "client_assertion_signers",
};

const worst = (a: DoctorStatus, b: DoctorStatus): DoctorStatus =>
  a === "unsafe" || b === "unsafe" ? "unsafe" : a === "warn" || b === "warn" ? "warn" : "ok";

/** A compact JWS: three base64url parts, the first two JSON objects (`eyJ` is base64url of `{"`). */
const JWS_RE = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{40,}/g;

function jwsExp(jws: string): number | undefined {
  try {
    const exp = (JSON.parse(Buffer.from(jws.split(".")[1]!, "base64url").toString("utf8")) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp : undefined;
  } catch {
    return undefined;
  }
}

function summarise(findings: string[], max = 2): string {
  return findings.length <= max
    ? findings.join("; ")
    : `${findings.slice(0, max).join("; ")} (+${findings.length - max} more)`;
}

function checkPermissions(paths: HomePaths): DoctorCheck {
  const problems = findUnsafe(paths);
  if (!problems.length) return { check: "permissions", status: "ok", message: "home and directories 0700, files 0600" };
  const unsafe = problems.filter((p) => p.severity === "unsafe");
  const shown = unsafe.length ? unsafe : problems;
  return {
    check: "permissions",
    status: unsafe.length ? "unsafe" : "warn",
    message: summarise(shown.map((p) => p.message)),
    fix:
      unsafe.length > 1
        ? `chmod -R go-rwx '${paths.root.replace(/'/g, `'\\''`)}' (or gsmcp init on a new home)`
        : shown[0]!.fix,
    details: problems.map((p) => `${p.severity}: ${p.message} — ${p.fix}`),
  };
}

/** trust.json: parses, each role a list of well-formed Ed25519 entries whose keyid is their key's. */
function checkTrust(paths: HomePaths): { check: DoctorCheck; file?: TrustStoreFile } {
  const fail = (message: string, fix: string): { check: DoctorCheck } => ({
    check: { check: "trust", status: "unsafe", message, fix },
  });
  if (!existsSync(paths.trust))
    return fail("trust.json is missing", "restore it from backup (or gsmcp init --force on a home you can discard)");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(paths.trust, "utf8"));
  } catch (e) {
    return fail(`trust.json is not JSON: ${(e as Error).message}`, "restore trust.json from backup");
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    return fail("trust.json is not an object of roles", "restore trust.json from backup");
  const file = raw as Record<string, unknown>;
  const unsafe: string[] = [];
  const warn: string[] = [];
  const roleOf = new Map<string, TrustRole[]>();
  for (const k of Object.keys(file))
    if (!TRUST_ROLES.includes(k as TrustRole)) warn.push(`"${k}" is not a role (ignored)`);
  for (const role of TRUST_ROLES) {
    const list = file[role];
    if (list === undefined) {
      unsafe.push(`${role}: no keys`);
      continue;
    }
    if (!Array.isArray(list)) {
      unsafe.push(`${role} is not a list`);
      continue;
    }
    let active = 0;
    const seen = new Set<string>();
    list.forEach((e: unknown, i) => {
      const k = e as Partial<
        Record<"keyid" | "name" | "public_key" | "retired_at" | "valid_from" | "valid_until", unknown>
      >;
      const where = `${role}[${i}]`;
      if (!e || typeof e !== "object" || typeof k.keyid !== "string" || typeof k.public_key !== "string") {
        unsafe.push(`${where} needs keyid and public_key strings`);
        return;
      }
      if (typeof k.name !== "string") warn.push(`${where} (${k.keyid}) has no name`);
      try {
        const id = keyIdOf(publicKeyFromPem(k.public_key));
        if (id !== k.keyid) unsafe.push(`${where}: keyid ${k.keyid} is not its public key's (${id})`);
      } catch (err) {
        unsafe.push(`${where} (${k.keyid}): public_key is not an Ed25519 SPKI PEM (${(err as Error).message})`);
        return;
      }
      if (k.retired_at !== undefined && (typeof k.retired_at !== "string" || Number.isNaN(Date.parse(k.retired_at))))
        unsafe.push(`${where} (${k.keyid}): retired_at is not a date`);
      for (const f of ["valid_from", "valid_until"] as const)
        if (k[f] !== undefined && (typeof k[f] !== "string" || Number.isNaN(Date.parse(k[f] as string))))
          unsafe.push(`${where} (${k.keyid}): ${f} is not a date`);
      if (
        typeof k.valid_from === "string" &&
        typeof k.valid_until === "string" &&
        Date.parse(k.valid_from) > Date.parse(k.valid_until)
      )
        unsafe.push(`${where} (${k.keyid}): valid_from ${k.valid_from} is after valid_until ${k.valid_until}`);
      if (k.retired_at === undefined && keyValidAt(e as TrustedKey, new Date())) active++;
      if (seen.has(k.keyid)) warn.push(`${role} lists ${k.keyid} twice`);
      seen.add(k.keyid);
      roleOf.set(k.keyid, [...new Set([...(roleOf.get(k.keyid) ?? []), role])]);
    });
    if (active === 0) unsafe.push(`${role}: no active key`);
  }
  for (const [keyid, roles] of roleOf)
    if (roles.length > 1) unsafe.push(`${keyid} is trusted for ${roles.join(" and ")}: a key plays one role`);
  const status: DoctorStatus = unsafe.length ? "unsafe" : warn.length ? "warn" : "ok";
  const findings = [...unsafe, ...warn];
  return {
    check: {
      check: "trust",
      status,
      message:
        status === "ok"
          ? `${TRUST_ROLES.length} roles, ${roleOf.size} keys, each trusted for one role`
          : summarise(findings),
      ...(status === "ok"
        ? {}
        : {
            fix: "edit trust.json: one active entry per role, each key under exactly one role (see docs/operations.md, Keys and rotation)",
            details: findings,
          }),
    },
    ...(unsafe.some((u) => / is not a list|needs keyid|is not an Ed25519/.test(u))
      ? {}
      : { file: file as unknown as TrustStoreFile }),
  };
}

/** Each key file under keys/: present, an Ed25519 private key, trusted (active) under its role and no other. */
function checkKeys(paths: HomePaths, trust: TrustStoreFile | undefined, tokenIssuerName: unknown): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  for (const [name, fileName] of Object.entries(KEY_FILES) as [KeyName, string][]) {
    const check = `key:${fileName}`;
    const role = KEY_ROLES[name];
    const file = join(paths.keys, fileName);
    if (!existsSync(file)) {
      // Production keeps the policy signer, token issuer and approver off the server; the receipt signer must be here.
      checks.push(
        name === "receiptSigner"
          ? {
              check,
              status: "unsafe",
              message: `keys/${fileName} is missing: the server cannot sign receipts`,
              fix: "restore the receipt signer key from backup (its public key is in trust.json receipt_signers)",
            }
          : {
              check,
              status: "warn",
              message: `keys/${fileName} is absent (${role} key not on this machine)`,
              fix: `fine if this role's key is held elsewhere (docs/operations.md, Keys and rotation); else restore it`,
            },
      );
      continue;
    }
    let keyid: string;
    try {
      keyid = signingKeyFromPem(readFileSync(file, "utf8")).keyid;
    } catch (e) {
      checks.push({
        check,
        status: "unsafe",
        message: `keys/${fileName} is not an Ed25519 private key (${(e as Error).message})`,
        fix: "restore the key from backup",
      });
      continue;
    }
    if (!trust) {
      checks.push({ check, status: "warn", message: `${keyid}: not checked against trust.json (unusable)` });
      continue;
    }
    const roles = TRUST_ROLES.filter((r) => (trust[r] ?? []).some((k) => k.keyid === keyid));
    const entry = (trust[role] ?? []).find((k) => k.keyid === keyid);
    const others = roles.filter((r) => r !== role);
    if (others.length)
      checks.push({
        check,
        status: "unsafe",
        message: `${keyid} is trusted for ${roles.join(" and ")}: a ${role} key must be trusted for that role only`,
        fix: `remove ${keyid} from ${others.join(", ")} in trust.json`,
      });
    else if (!entry)
      checks.push({
        check,
        status: "unsafe",
        message: `${keyid} is not in trust.json ${role}: what it signs is refused`,
        fix: `add its public key to ${role} in trust.json (openssl pkey -in keys/${fileName} -pubout)`,
      });
    else if (!entry.retired_at && !keyValidAt(entry, new Date()))
      checks.push({
        check,
        status: "unsafe",
        message: `${keyid} is the ${role} key on disk but its validity window ${describeWindow(keyWindow(entry))} does not contain now: it is refused for signing`,
        fix: role === "receipt_signers" ? `run "gsmcp keys rotate receipt"` : `put a key valid now in keys/${fileName}`,
      });
    else if (entry.retired_at)
      checks.push({
        check,
        status: "unsafe",
        message: `${keyid} is retired in trust.json (${entry.retired_at}) but still the ${role} key on disk`,
        fix: `finish the rotation: put the new ${role} key in keys/${fileName}`,
      });
    else if (name === "tokenIssuer" && typeof tokenIssuerName === "string" && entry.name !== tokenIssuerName)
      checks.push({
        check,
        status: "warn",
        message: `config.json token_issuer "${tokenIssuerName}" is not this key's trust.json name "${entry.name}": tokens it issues are refused`,
        fix: `set token_issuer in config.json to "${entry.name}"`,
      });
    else checks.push({ check, status: "ok", message: `${keyid}, trusted as ${role} only` });
  }
  const admin = join(paths.keys, "admin-token");
  const adminToken = existsSync(admin) ? readFileSync(admin, "utf8").trim() : "";
  checks.push(
    adminToken.length >= 32
      ? { check: "key:admin-token", status: "ok", message: "operator token for the HTTP admin endpoint" }
      : {
          check: "key:admin-token",
          status: "warn",
          message: existsSync(admin)
            ? "keys/admin-token is shorter than 32 characters"
            : "keys/admin-token is absent: the HTTP admin endpoint is off unless GSMCP_ADMIN_TOKEN is set",
          fix: `write a random one: openssl rand -base64 32 > keys/admin-token && chmod 600 keys/admin-token`,
        },
  );
  return checks;
}

/** Every stored policy: a DSSE envelope signed by a trusted policy signer; a hash-named one hashes to its name. */
function checkPolicies(paths: HomePaths, trust: TrustStoreFile | undefined): DoctorCheck {
  if (!trust)
    return { check: "policies", status: "warn", message: "not checked: trust.json is unusable", fix: "fix trust.json" };
  const store = new TrustStore(trust);
  // Policies signed by a since-retired signer stay in the store for old receipts: a warning, not a failure.
  const withRetired = new TrustStore({
    ...trust,
    policy_signers: (trust.policy_signers ?? []).map(({ retired_at: _, ...k }) => k),
  });
  const files = existsSync(paths.policies) ? readdirSync(paths.policies).filter((f) => f.endsWith(".json")) : [];
  const unsafe: string[] = [];
  const warn: string[] = [];
  for (const f of files.sort()) {
    const byHash = /^([0-9a-f]{64})\.dsse\.json$/.exec(f);
    const expected = byHash ? `sha256:${byHash[1]}` : undefined;
    let env: DsseEnvelope;
    try {
      env = JSON.parse(readFileSync(join(paths.policies, f), "utf8")) as DsseEnvelope;
    } catch {
      unsafe.push(`${f} is not JSON`);
      continue;
    }
    try {
      verifyEnvelope(env, store, expected);
    } catch (e) {
      const code = e instanceof GovernanceError ? e.code : "policy_invalid";
      if (code === "policy_untrusted") {
        try {
          verifyEnvelope(env, withRetired, expected);
          warn.push(`${f} is signed only by a retired policy signer (serve refuses it)`);
          continue;
        } catch {}
      }
      const what =
        code === "policy_hash_mismatch" ? `does not hash to its name (${(e as Error).message})` : (e as Error).message;
      unsafe.push(`${f}: ${what}`);
    }
  }
  if (unsafe.length)
    return {
      check: "policies",
      status: "unsafe",
      message: summarise(unsafe),
      fix: "remove or replace the file(s) with the signed original (gsmcp policy sign FILE stores a fresh envelope)",
      details: [...unsafe, ...warn],
    };
  if (warn.length)
    return {
      check: "policies",
      status: "warn",
      message: summarise(warn),
      fix: "re-sign policies still in use with the current policy signer (gsmcp policy sign FILE)",
      details: warn,
    };
  return {
    check: "policies",
    status: "ok",
    message: `${files.length} signed polic${files.length === 1 ? "y" : "ies"}: signatures verify, hashes match names`,
  };
}

/** The receipt log, as `gsmcp receipts verify` checks it (signatures, links, seq), on a read-only connection. */
function checkReceipts(db: Db, trust: TrustStoreFile | undefined): DoctorCheck {
  if (!trust)
    return { check: "receipts", status: "warn", message: "not checked: trust.json is unusable", fix: "fix trust.json" };
  return receiptsCheck(verifyStoredLog(db, new TrustStore(trust).keys("receipt_signers", true)), "state.db");
}

function receiptsCheck({ count, problems }: { count: number; problems: ChainProblem[] }, where: string): DoctorCheck {
  if (!problems.length)
    return { check: "receipts", status: "ok", message: `${count} receipts: signatures valid, chain intact` };
  const findings = problems.map((p) => `seq ${p.seq} (${p.receipt_id}) ${p.code}: ${p.message}`);
  return {
    check: "receipts",
    status: "unsafe",
    message: `chain broken: ${summarise(findings, 1)}`,
    fix: `the log was altered or damaged: keep ${where} as evidence, compare with your WORM copy (gsmcp receipts verify lists every problem)`,
    details: findings,
  };
}

function checkConfig(paths: HomePaths): { check: DoctorCheck; config?: Record<string, unknown> } {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(readFileSync(paths.config, "utf8")) as Record<string, unknown>;
    if (!c || typeof c !== "object" || Array.isArray(c)) throw new Error("not an object");
  } catch (e) {
    return {
      check: {
        check: "config",
        status: "unsafe",
        message: `config.json is unreadable: ${(e as Error).message}`,
        fix: "restore config.json from backup",
      },
    };
  }
  const problems: string[] = [];
  const nonEmpty = (k: string) => typeof c[k] === "string" && (c[k] as string).length > 0;
  if (c.backend !== "local" && c.backend !== "azure")
    problems.push(`backend is ${JSON.stringify(c.backend)}, not "local" or "azure"`);
  for (const k of ["server_id", "audience", "token_issuer", "workspace_name"])
    if (!nonEmpty(k)) problems.push(`${k} is missing or empty`);
  try {
    validateHttpConfig(c.http);
  } catch (e) {
    problems.push(e instanceof HttpConfigError ? `${e.message} (${e.fix})` : (e as Error).message);
  }
  if (!problems.length && c.backend === "local") {
    const idsFile = join(paths.workspace, "ids.json");
    try {
      const ids = JSON.parse(readFileSync(idsFile, "utf8")) as { workspaceName?: string };
      if (ids.workspaceName !== c.workspace_name)
        problems.push(`workspace_name "${c.workspace_name}" is not the local workspace's ("${ids.workspaceName}")`);
    } catch {
      problems.push("backend is local but workspace/ids.json is missing or unreadable");
    }
  }
  if (problems.length)
    return {
      check: {
        check: "config",
        status: "unsafe",
        message: summarise(problems),
        fix: "correct config.json (backend local|azure, audience, workspace_name, http limits; see docs/operations.md)",
        details: problems,
      },
      config: c,
    };
  return {
    check: {
      check: "config",
      status: "ok",
      message: `backend ${c.backend}, workspace ${c.workspace_name}, audience ${c.audience}`,
    },
    config: c,
  };
}

/** The state keeps tokens as sha256 + claims: a `jws` column (schema before the migration) means usable tokens. */
function checkStoredTokens(db: Db, nowSec: number): DoctorCheck {
  const columns = (db.prepare("PRAGMA table_info(tokens)").all() as { name: string }[]).map((c) => c.name);
  const fix =
    "run any state command with this version to migrate (e.g. gsmcp jobs list): tokens become sha256 + claims";
  if (columns.includes("jws")) {
    const { n, live } = db
      .prepare<[number], { n: number; live: number | null }>("SELECT count(*) AS n, sum(exp > ?) AS live FROM tokens")
      .get(nowSec)!;
    if (live)
      return {
        check: "tokens",
        status: "unsafe",
        message: `state.db holds ${live} live token(s) (of ${n}) as JWS`,
        fix,
      };
    if (n) return { check: "tokens", status: "warn", message: `state.db holds ${n} expired token(s) as JWS`, fix };
    return { check: "tokens", status: "warn", message: "state.db tokens table still has a jws column", fix };
  }
  const n = (db.prepare("SELECT count(*) AS n FROM tokens").get() as { n: number }).n;
  return {
    check: "tokens",
    status: "ok",
    message: `${n} token(s) in state.db, kept as sha256 and claims: none usable`,
  };
}

/** Token files the operator keeps (tokens/, `token issue -o`) and proof bundles that carry a token still valid. */
function checkTokenFiles(paths: HomePaths, nowSec: number): DoctorCheck {
  const live: string[] = [];
  for (const [dir, label] of [
    [paths.tokens, "tokens"],
    [paths.proofs, "proofs"],
  ] as const) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      const file = join(dir, f);
      if (!statSync(file).isFile()) continue;
      // Bundles put tokens before receipts: the first MiB holds them.
      const head = readFileSync(file)
        .subarray(0, 1 << 20)
        .toString("utf8");
      const n = (head.match(JWS_RE) ?? []).filter((jws) => (jwsExp(jws) ?? 0) > nowSec).length;
      if (n) live.push(`${label}/${f}${n > 1 ? ` (${n})` : ""}`);
    }
  }
  if (!live.length) return { check: "token-files", status: "ok", message: "no live token in tokens/ or proofs/" };
  return {
    check: "token-files",
    status: "warn",
    message: `live bearer token(s) at rest: ${summarise(live, 3)}`,
    fix: "hand token files to their agent and delete them (they stay usable until exp); re-export old bundles that carry one",
    details: live,
  };
}

function checkSchema(db: Db): DoctorCheck {
  const version = db.pragma("user_version", { simple: true }) as number;
  const integrity = db.pragma("quick_check", { simple: true }) as string;
  if (integrity !== "ok")
    return {
      check: "state",
      status: "unsafe",
      message: `state.db fails SQLite quick_check: ${integrity}`,
      fix: "stop the server and restore state.db from backup (keep the damaged copy as evidence)",
    };
  if (version < STATE_SCHEMA_VERSION)
    return {
      check: "state",
      status: "warn",
      message: `state.db schema version ${version}, current ${STATE_SCHEMA_VERSION}`,
      fix: "run any state command with this version to migrate it (e.g. gsmcp jobs list)",
    };
  if (version > STATE_SCHEMA_VERSION)
    return {
      check: "state",
      status: "warn",
      message: `state.db schema version ${version} is newer than this gsmcp's (${STATE_SCHEMA_VERSION})`,
      fix: "upgrade gsmcp to the version that wrote it",
    };
  return { check: "state", status: "ok", message: `state.db schema version ${version} (current), quick_check ok` };
}

/**
 * The PostgreSQL store GSMCP_STORE names: reachable (errors never carry the URL's secrets), its schema version, and
 * its receipt log as `gsmcp receipts verify` checks it. Undefined when GSMCP_STORE names none (SQLite, checked above).
 */
async function checkPgStore(
  trust: TrustStoreFile | undefined,
  env: NodeJS.ProcessEnv,
): Promise<DoctorCheck[] | undefined> {
  const { pgStoreOptionsFromEnv, pgStoreStatus, openPgStore } = await import("../../state/pg-store.js");
  let opts: Awaited<ReturnType<typeof pgStoreOptionsFromEnv>>;
  try {
    opts = await pgStoreOptionsFromEnv(env);
  } catch (e) {
    return [
      { check: "store", status: "unsafe", message: (e as Error).message, fix: "fix GSMCP_STORE_CA / GSMCP_STORE_AUTH" },
    ];
  }
  if (!opts) return undefined;
  let status: Awaited<ReturnType<typeof pgStoreStatus>>;
  try {
    status = await pgStoreStatus(opts);
  } catch (e) {
    return [
      {
        check: "store",
        status: "unsafe",
        message: (e as Error).message,
        fix: "check the PostgreSQL server GSMCP_STORE names (running, reachable, credentials)",
      },
    ];
  }
  const { where, schemaVersion, knownVersion } = status;
  if (schemaVersion !== knownVersion)
    return [
      {
        check: "store",
        status: schemaVersion < knownVersion ? "warn" : "unsafe",
        message: `PostgreSQL store ${where}: schema version ${schemaVersion}, this gsmcp knows ${knownVersion}`,
        fix: schemaVersion < knownVersion ? "run gsmcp store migrate" : "upgrade gsmcp to the version that migrated it",
      },
    ];
  const checks: DoctorCheck[] = [
    { check: "store", status: "ok", message: `PostgreSQL store ${where}: schema version ${schemaVersion}` },
  ];
  if (!trust) {
    checks.push({
      check: "receipts",
      status: "warn",
      message: "not checked: trust.json is unusable",
      fix: "fix trust.json",
    });
    return checks;
  }
  const store = await openPgStore(opts);
  try {
    const rows = await allRows(store.receipts);
    checks.push(
      receiptsCheck(verifyStoredRows(rows, new TrustStore(trust).keys("receipt_signers", true)), "the store"),
    );
  } finally {
    await store.close();
  }
  return checks;
}

/** Runs every check on `home`; reads only. With GSMCP_STORE, the PostgreSQL store instead of state.db. */
export async function runDoctor(
  home: string,
  now: Date = new Date(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<DoctorCheck[]> {
  const paths = homePaths(home);
  if (!existsSync(paths.config))
    return [
      {
        check: "home",
        status: "unsafe",
        message: `${paths.root} is not an initialised GSMCP_HOME (no config.json)`,
        fix: 'run "gsmcp init" (or point --home / GSMCP_HOME at the initialised directory)',
      },
    ];
  const nowSec = Math.floor(now.getTime() / 1000);
  // Permissions first: opening the state read-only may create its -shm file.
  const checks: DoctorCheck[] = [{ check: "home", status: "ok", message: paths.root }, checkPermissions(paths)];
  const trust = checkTrust(paths);
  const config = checkConfig(paths);
  checks.push(...checkKeys(paths, trust.file, config.config?.token_issuer), trust.check);
  checks.push(checkPolicies(paths, trust.file));
  const pg = env.GSMCP_STORE?.trim() ? await checkPgStore(trust.file, env) : undefined;
  if (pg) checks.push(...pg);
  else if (!existsSync(paths.stateDb)) {
    checks.push({
      check: "state",
      status: "warn",
      message: "state.db is missing: receipts, approvals and jobs start empty",
      fix: "restore it from backup, or let gsmcp serve create a new one",
    });
  } else {
    let db: Db | undefined;
    try {
      db = openStateDb(paths.stateDb, { readonly: true });
      checks.push(checkReceipts(db, trust.file), checkStoredTokens(db, nowSec), checkSchema(db));
    } catch (e) {
      checks.push({
        check: "state",
        status: "unsafe",
        message: `state.db cannot be read: ${(e as Error).message}`,
        fix: "stop the server and restore state.db from backup",
      });
    } finally {
      db?.close();
    }
  }
  checks.push(checkTokenFiles(paths, nowSec), config.check);
  // The server's own Azure identity against GSMCP_POLICY, on workspaces that have one (src/rbac/check.ts).
  if (config.check.status !== "unsafe") checks.push(...(await doctorIdentityChecks(paths, env)));
  return checks;
}

const MARK: Record<DoctorStatus, string> = { ok: "ok    ", warn: "warn  ", unsafe: "UNSAFE" };

export function registerDoctorCommand(program: Command, home: () => string): void {
  program
    .command("doctor")
    .description(
      "check GSMCP_HOME is safe: permissions, keys and roles, trust store, policies, receipt chain, config, tokens at rest (exit 2 if unsafe)",
    )
    .option(
      "--json",
      "machine-readable: an array of {check, status, message, fix, details} (schemas/cli/doctor.schema.json)",
    )
    .action(async (o: { json?: boolean }) => {
      const checks = await runDoctor(home());
      if (o.json) out(JSON.stringify(checks, null, 2));
      else
        for (const c of checks)
          out(`${MARK[c.status]} ${c.check}: ${c.message}${c.status !== "ok" && c.fix ? ` — fix: ${c.fix}` : ""}`);
      const overall = checks.reduce<DoctorStatus>((s, c) => worst(s, c.status), "ok");
      const unsafe = checks.filter((c) => c.status === "unsafe").length;
      if (overall === "unsafe")
        throw new CliError(`${unsafe} unsafe finding(s) in ${home()}`, 2, "apply the fixes above", "check_failed");
    });
}
