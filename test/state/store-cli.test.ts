// `gsmcp store migrate` and `gsmcp store status` on both stores (registered on a bare commander program: main.ts
// registers the module lazily like the other commands). Output names where the store is, never a secret.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { registerStoreCommands } from "../../src/cli/commands/store.js";
import { generateSigningKey } from "../../src/crypto/keys.js";
import { receiptHash, signReceipt } from "../../src/receipts/receipt.js";
import type { SealReceipt } from "../../src/state/contract.js";
import { STATE_SCHEMA_VERSION } from "../../src/state/db.js";
import { PG_SCHEMA_VERSION } from "../../src/state/pg-migrations.js";
import { openPgStore } from "../../src/state/pg-store.js";
import { dropFreshPgDatabases, freshPgDatabase } from "../helpers/pg-fresh.js";
import { describePg, withPgDatabase } from "../helpers/postgres.js";

const pgdb = await withPgDatabase();
afterAll(dropFreshPgDatabases);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const saved = process.env.GSMCP_STORE;
afterEach(() => {
  if (saved === undefined) delete process.env.GSMCP_STORE;
  else process.env.GSMCP_STORE = saved;
});

async function gsmcp(home: string, ...args: string[]): Promise<string> {
  const program = new Command("gsmcp").exitOverride();
  registerStoreCommands(program, () => home);
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(["node", "gsmcp", ...args]);
  } finally {
    process.stdout.write = write;
  }
  return lines.join("");
}

function bareHome(): string {
  const home = mkdtempSync(join(tmpdir(), "gsmcp-store-cli-"));
  dirs.push(home);
  writeFileSync(join(home, "config.json"), "{}");
  return home;
}

const key = generateSigningKey();
const seal: SealReceipt = (draft, head, jobPrevSeq) => {
  const receipt = signReceipt({ ...draft, seq: head.seq + 1, prev_hash: head.hash, job_prev_seq: jobPrevSeq }, key);
  return { receipt, hash: receiptHash(receipt) };
};

describe("gsmcp store on SQLite (GSMCP_STORE unset)", () => {
  it("migrate creates and migrates the state database; status reports it", async () => {
    delete process.env.GSMCP_STORE;
    const home = bareHome();
    await expect(gsmcp(home, "store", "status")).rejects.toThrow(/no state database/);
    expect(await gsmcp(home, "store", "migrate")).toContain(`migrated schema version 0 → ${STATE_SCHEMA_VERSION}`);
    expect(await gsmcp(home, "store", "migrate")).toContain(`schema version ${STATE_SCHEMA_VERSION}, up to date`);
    const status = JSON.parse(await gsmcp(home, "store", "status", "--json"));
    expect(status).toEqual({
      kind: "sqlite",
      where: join(home, "state.db"),
      schema_version: STATE_SCHEMA_VERSION,
      known_version: STATE_SCHEMA_VERSION,
      receipts: 0,
      head: { seq: 0, hash: `sha256:${"0".repeat(64)}` },
    });
  });
});

describePg("gsmcp store on PostgreSQL (GSMCP_STORE=postgres://...)", pgdb, (db) => {
  it("status before and after migrate; receipts and head; no password in the output", async () => {
    const url = await freshPgDatabase(db);
    process.env.GSMCP_STORE = url;
    const home = bareHome();
    const where = `postgres://${new URL(url).hostname}:${new URL(url).port}${new URL(url).pathname}`;
    const before = await gsmcp(home, "store", "status");
    expect(before).toContain("kind: postgres");
    expect(before).toContain(`where: ${where}`);
    expect(before).toContain(`schema: version 0 (this gsmcp knows ${PG_SCHEMA_VERSION}) — run gsmcp store migrate`);
    expect(await gsmcp(home, "store", "migrate")).toBe(
      `postgres store ${where}: migrated schema version 0 → ${PG_SCHEMA_VERSION}\n`,
    );
    const s = await openPgStore({ url });
    const d = {
      receipt_id: "rcpt_cli",
      time: "2026-03-01T10:00:00.000Z",
      server_id: "srv",
      job: "job-cli",
      agent: "a",
      cst_jti: "j",
      policy_hash: "sha256:p",
      op: "kql.query",
      tool: "t",
      args_hash: "sha256:a",
      args_redacted: {},
      decision: { effect: "ALLOW" as const, reasons: [] },
      constraints_applied: [],
      phase: "single" as const,
      outcome: { status: "ok" as const },
      event_id: "e",
    };
    const { hash } = await s.receipts.append(d, seal);
    await s.close();
    const after = await gsmcp(home, "store", "status");
    expect(after).toBe(
      `kind: postgres\nwhere: ${where}\nschema: version ${PG_SCHEMA_VERSION} (this gsmcp knows ${PG_SCHEMA_VERSION})\nreceipts: 1\nhead: seq 1 ${hash}\n`,
    );
    const password = decodeURIComponent(new URL(url).password);
    for (const text of [before, after]) {
      expect(text).not.toContain(password);
      expect(text).not.toMatch(/postgres:\/\/[^\s]*@/);
    }
  });
});
