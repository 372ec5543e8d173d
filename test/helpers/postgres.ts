// PostgreSQL for tests. `await withPgDatabase()` at the top of a test file gives that file its own fresh database
// (gsmcp_test_<random>) owned by its own password role (SCRAM over TCP, as a managed server would ask), both dropped
// after the file. The server: GSMCP_TEST_PG_URL (a superuser URL) when set; otherwise the throw-away server of
// scripts/pg-test-server.sh, started once per run when Debian's postgresql is installed; otherwise the file's suites
// skip with the reason — except in CI (CI=true, or GSMCP_TEST_PG_REQUIRED=1), where a missing PostgreSQL fails the file.
//
//   const pg = await withPgDatabase();
//   describePg("store on PostgreSQL", pg, (db) => { it("...", async () => { ... db.url ... }); });
//
// Nothing here prints a URL or a password; errors name the server by host and port only.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, inject, it } from "vitest";
import {
  PG_NOT_FOUND,
  PG_SCRIPT,
  pgBinariesFound,
  type ServerEnv,
  sharedServer,
  startServer,
} from "./postgres-server.js";

export interface PgLogin {
  user: string;
  password: string;
  /** postgres://user:password@host:port/database */
  url: string;
}

export type PgTestDatabase =
  | {
      available: true;
      /** This file's database. */
      database: string;
      /** Superuser URL to this file's database. */
      url: string;
      /** The file's own login role (owner of the database), password-authenticated. */
      owner: PgLogin;
      /** The server-wide password user gsmcp_pw, when the server came from the script (or GSMCP_TEST_PG_PW_URL). */
      serverPasswordUser?: PgLogin;
      /** Where the server came from. */
      source: "env" | "throw-away";
    }
  | { available: false; reason: string };

export type PgAvailable = Extract<PgTestDatabase, { available: true }>;

/**
 * A suite that needs PostgreSQL: `fn` defines its tests when the database is there; otherwise the suite holds one
 * skipped test named with the reason (and the reason is printed once, as a warning: it never holds a secret).
 */
export function describePg(name: string, db: PgTestDatabase, fn: (db: PgAvailable) => void): void {
  if (db.available) {
    describe(name, () => fn(db));
    return;
  }
  console.warn(`${name}: skipped: ${db.reason}`);
  describe.skip(name, () => {
    it(`skipped: ${db.reason}`, () => {});
  });
}

/** CI=true (or GSMCP_TEST_PG_REQUIRED=1, which .ci/run sets): a missing PostgreSQL fails instead of skipping. */
const required = () =>
  process.env.CI === "true" || process.env.CI === "1" || process.env.GSMCP_TEST_PG_REQUIRED === "1";

let server: Promise<{ env: ServerEnv; source: "env" | "throw-away" } | { reason: string }> | undefined;

async function resolveServer(): Promise<{ env: ServerEnv; source: "env" | "throw-away" } | { reason: string }> {
  if (process.env.GSMCP_TEST_PG_URL) {
    const env: ServerEnv = { GSMCP_TEST_PG_URL: process.env.GSMCP_TEST_PG_URL };
    if (process.env.GSMCP_TEST_PG_PW_URL) env.GSMCP_TEST_PG_PW_URL = process.env.GSMCP_TEST_PG_PW_URL;
    return { env, source: "env" };
  }
  if (!pgBinariesFound()) return { reason: PG_NOT_FOUND };
  let runDir: string | undefined;
  try {
    runDir = inject("gsmcpPgRunDir");
  } catch {
    runDir = undefined;
  }
  try {
    if (runDir) return { env: await sharedServer(runDir), source: "throw-away" };
    // No global setup registered: a server for this file alone.
    const { env } = await startServer();
    afterAll(() => {
      spawnSync("bash", [PG_SCRIPT, "stop", env.GSMCP_TEST_PG_DIR!], { stdio: "ignore", timeout: 30_000 });
    });
    return { env, source: "throw-away" };
  } catch (e) {
    return { reason: (e as Error).message };
  }
}

function login(base: string, user: string, password: string, database: string): PgLogin {
  const u = new URL(base);
  u.username = user;
  u.password = password;
  u.pathname = `/${database}`;
  return { user, password, url: u.toString() };
}

function where(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}`;
}

/**
 * A superuser client for the helpers' own DDL. Bounded: a connect or statement that never answers fails the file
 * instead of hanging it (withPgDatabase runs while the file is collected, where vitest applies no timeout).
 */
export function adminClient(url: string): pg.Client {
  return new pg.Client({ connectionString: url, connectionTimeoutMillis: 30_000, query_timeout: 120_000 });
}

/** A fresh database (and owner role) for the calling test file, dropped after it. See the file comment. */
export async function withPgDatabase(): Promise<PgTestDatabase> {
  server ??= resolveServer();
  const s = await server;
  if ("reason" in s) {
    if (required()) throw new Error(`${s.reason} (CI=true or GSMCP_TEST_PG_REQUIRED=1: PostgreSQL tests must run)`);
    return { available: false, reason: s.reason };
  }
  const adminUrl = s.env.GSMCP_TEST_PG_URL!;
  const suffix = randomBytes(6).toString("hex");
  const database = `gsmcp_test_${suffix}`;
  const role = `gsmcp_owner_${suffix}`;
  const password = randomBytes(16).toString("hex");
  const admin = adminClient(adminUrl);
  try {
    await admin.connect();
    // Identifiers and the password are hex we generated: nothing to quote.
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await admin.query(`CREATE DATABASE ${database} OWNER ${role}`);
  } catch (e) {
    throw new Error(`PostgreSQL at ${where(adminUrl)}: could not create ${database}: ${(e as Error).message}`);
  } finally {
    await admin.end().catch(() => {});
  }
  afterAll(async () => {
    const c = adminClient(adminUrl);
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${role}`);
    } finally {
      await c.end();
    }
  });
  const pwUrl = s.env.GSMCP_TEST_PG_PW_URL;
  let serverPasswordUser: PgLogin | undefined;
  if (pwUrl) {
    const u = new URL(pwUrl);
    serverPasswordUser = {
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      url: pwUrl,
    };
  }
  return {
    available: true,
    database,
    url: login(
      adminUrl,
      decodeURIComponent(new URL(adminUrl).username),
      decodeURIComponent(new URL(adminUrl).password),
      database,
    ).url,
    owner: login(adminUrl, role, password, database),
    serverPasswordUser,
    source: s.source,
  };
}
