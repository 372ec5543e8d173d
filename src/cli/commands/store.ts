import { existsSync } from "node:fs";
import type { Command } from "commander";
import { requireHome } from "../../governance/home.js";
import { openStateDb, STATE_SCHEMA_VERSION } from "../../state/db.js";
import { migratePgStore, pgStoreOptionsFromEnv, pgStoreStatus } from "../../state/pg-store.js";
import type { StoreMigrateOutput } from "../../types/cli/store-migrate.js";
import type { StoreStatusOutput } from "../../types/cli/store-status.js";
import { CliError, out, printJson } from "../output.js";

/** What `gsmcp store status` reports: no password or connection string, only where the store is. */
export interface StoreStatus {
  kind: "sqlite" | "postgres";
  where: string;
  schema_version: number;
  /** The schema version this gsmcp knows. */
  known_version: number;
  receipts?: number;
  head?: { seq: number; hash: string };
}

const GENESIS = `sha256:${"0".repeat(64)}`;

function sqliteVersion(path: string): number {
  if (!existsSync(path)) return 0;
  const db = openStateDb(path, { readonly: true });
  try {
    return db.pragma("user_version", { simple: true }) as number;
  } finally {
    db.close();
  }
}

function sqliteStatus(path: string): StoreStatus {
  if (!existsSync(path))
    throw new CliError(
      `no state database at ${path} yet`,
      1,
      "run gsmcp store migrate (or start gsmcp serve)",
      "not_found",
    );
  const db = openStateDb(path, { readonly: true });
  try {
    const version = db.pragma("user_version", { simple: true }) as number;
    const status: StoreStatus = {
      kind: "sqlite",
      where: path,
      schema_version: version,
      known_version: STATE_SCHEMA_VERSION,
    };
    if (version < 1) return status;
    const n = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM receipts").get()?.n ?? 0;
    const head = db
      .prepare<[], { seq: number; hash: string }>("SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1")
      .get();
    return { ...status, receipts: n, head: head ?? { seq: 0, hash: GENESIS } };
  } finally {
    db.close();
  }
}

function printStatus(s: StoreStatus): void {
  out(`kind: ${s.kind}`);
  out(`where: ${s.where}`);
  const note =
    s.schema_version > s.known_version
      ? " — newer than this gsmcp: upgrade gsmcp"
      : s.schema_version < s.known_version
        ? " — run gsmcp store migrate"
        : "";
  out(`schema: version ${s.schema_version} (this gsmcp knows ${s.known_version})${note}`);
  if (s.receipts !== undefined) out(`receipts: ${s.receipts}`);
  if (s.head) out(`head: seq ${s.head.seq} ${s.head.hash}`);
}

/**
 * `gsmcp store migrate|status`: the state store GSMCP_STORE selects — unset, SQLite in GSMCP_HOME; a postgres:// URL,
 * PostgreSQL (with GSMCP_STORE_CA and GSMCP_STORE_AUTH=entra as the server uses them).
 */
export function registerStoreCommands(program: Command, home: () => string): void {
  const store = program
    .command("store")
    .description("the state store (SQLite in GSMCP_HOME, or PostgreSQL from GSMCP_STORE): migrate, status");
  store
    .command("migrate")
    .description("apply the store's schema migrations (refuses a schema newer than this gsmcp)")
    .option("--json", "JSON output (schemas/cli/store-migrate.schema.json)")
    .action(async (o: { json?: boolean }) => {
      const pg = await pgStoreOptionsFromEnv(process.env);
      let r: { kind: "sqlite" | "postgres"; where: string; from: number; to: number };
      if (pg) {
        r = { kind: "postgres", ...(await migratePgStore(pg)) };
      } else {
        const path = requireHome(home()).paths.stateDb;
        const from = sqliteVersion(path);
        if (from > STATE_SCHEMA_VERSION)
          throw new CliError(
            `the store's schema is version ${from}, this gsmcp knows ${STATE_SCHEMA_VERSION}: upgrade gsmcp`,
          );
        // Opening the state database migrates it (src/state/db.ts).
        openStateDb(path).close();
        r = { kind: "sqlite", where: path, from, to: sqliteVersion(path) };
      }
      if (o.json) return printJson(r satisfies StoreMigrateOutput);
      out(
        r.from === r.to
          ? `${r.kind} store ${r.where}: schema version ${r.to}, up to date`
          : `${r.kind} store ${r.where}: migrated schema version ${r.from} → ${r.to}`,
      );
    });
  store
    .command("status")
    .description("kind, where (no secrets), schema version, receipts, head")
    .option("--json", "JSON output (schemas/cli/store-status.schema.json)")
    .action(async (o: { json?: boolean }) => {
      const pg = await pgStoreOptionsFromEnv(process.env);
      let s: StoreStatus;
      if (pg) {
        const p = await pgStoreStatus(pg);
        s = {
          kind: "postgres",
          where: p.where,
          schema_version: p.schemaVersion,
          known_version: p.knownVersion,
          ...(p.receipts !== undefined ? { receipts: p.receipts } : {}),
          ...(p.head ? { head: p.head } : {}),
        };
      } else {
        s = sqliteStatus(requireHome(home()).paths.stateDb);
      }
      if (o.json) return printJson(s satisfies StoreStatusOutput);
      printStatus(s);
    });
}
