// The PostgreSQL store when things go wrong: refused logins, a server that stops, restarts or freezes mid-run, a held
// append lock and an exhausted pool, schemas older or newer than the code — calls fail closed with StoreUnavailable
// (quickly, naming host, port and database only), nothing is half-committed, and the store recovers. Also the ways
// in: Entra (an access token as the password, from a credential callback), TLS options, the environment.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey } from "../../src/crypto/keys.js";
import { receiptHash, signReceipt } from "../../src/receipts/receipt.js";
import { verifyChain } from "../../src/receipts/verify-chain.js";
import { type SealReceipt, type StateStore, StoreUnavailable, type UnsealedReceipt } from "../../src/state/contract.js";
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from "../../src/state/pg-migrations.js";
import {
  ENTRA_PG_SCOPE,
  migratePgStore,
  openPgStore,
  parsePgUrl,
  pgStoreOptionsFromEnv,
} from "../../src/state/pg-store.js";
import type { Receipt } from "../../src/types/receipt.js";
import { dropFreshPgDatabases, freshPgDatabase } from "../helpers/pg-fresh.js";
import { type OwnPgServer, ownServerUnavailable, startOwnServer } from "../helpers/pg-own-server.js";
import { describePg, withPgDatabase } from "../helpers/postgres.js";

const pgdb = await withPgDatabase();
afterAll(dropFreshPgDatabases);

const key = generateSigningKey();
const keys = new Map([[key.keyid, key.publicKey]]);
const seal: SealReceipt = (draft, head, jobPrevSeq) => {
  const receipt = signReceipt({ ...draft, seq: head.seq + 1, prev_hash: head.hash, job_prev_seq: jobPrevSeq }, key);
  return { receipt, hash: receiptHash(receipt) };
};
const T0 = Date.parse("2026-03-01T10:00:00.000Z");
function draft(job: string): UnsealedReceipt {
  return {
    receipt_id: `rcpt_${randomBytes(8).toString("hex")}`,
    time: new Date(T0).toISOString(),
    server_id: "srv-test",
    job,
    agent: "agent-1",
    cst_jti: "jti-1",
    policy_hash: "sha256:policy-a",
    op: "kql.query",
    tool: "sentinel_query",
    args_hash: "sha256:args",
    args_redacted: {},
    decision: { effect: "ALLOW", reasons: [] },
    constraints_applied: [],
    phase: "single",
    outcome: { status: "ok" },
    event_id: "evt",
  };
}
const usage = (job: string) => ({ usage: { job, rows: 1, redactedPredicates: false, at: new Date(T0).toISOString() } });

async function rejection(p: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const t = Date.now();
  try {
    await p;
  } catch (e) {
    return { error: e as Error, ms: Date.now() - t };
  }
  throw new Error("expected a rejection");
}

/** No password, no user:password@ and no full connection string in what a store says. */
function expectNoSecrets(text: string, ...secrets: string[]): void {
  for (const s of secrets.filter(Boolean)) expect(text).not.toContain(s);
  expect(text).not.toMatch(/postgres(ql)?:\/\/[^\s]*@/);
}

/** The whole log: one chain from seq 1 that verifies. */
async function chainOf(s: StateStore): Promise<Receipt[]> {
  const rows = await s.receipts.range(0, 100_000);
  const receipts = rows.map((r) => JSON.parse(r.body) as Receipt);
  expect(rows.map((r) => r.seq)).toEqual(receipts.map((_, i) => i + 1));
  expect(verifyChain(receipts, keys)).toEqual([]);
  return receipts;
}

describe("PostgreSQL store: connection options", () => {
  it("parses a URL into host, port and database; `where` never holds the user or password", () => {
    const t = parsePgUrl("postgres://alice:s3cret%21@db.example.com:6432/gsmcp?sslmode=verify-full");
    expect(t).toMatchObject({
      host: "db.example.com",
      port: 6432,
      database: "gsmcp",
      user: "alice",
      password: "s3cret!",
    });
    expect(t.where).toBe("postgres://db.example.com:6432/gsmcp");
    expect(t.ssl).toEqual({ rejectUnauthorized: true });
    expect(parsePgUrl("postgresql://h/d").where).toBe("postgres://h:5432/d");
    expect(parsePgUrl("postgres://u@h/d?sslmode=require").ssl).toEqual({ rejectUnauthorized: false });
    expect(parsePgUrl("postgres://u@h/d?sslmode=disable").ssl).toBe(false);
    expect(parsePgUrl("postgres://u@h/d?sslmode=require", { ca: "PEM" }).ssl).toEqual({
      ca: "PEM",
      rejectUnauthorized: true,
    });
    const e = (() => {
      try {
        parsePgUrl("postgres://u:pw-in-url@h:notaport/d");
      } catch (x) {
        return x as Error;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(StoreUnavailable);
    expectNoSecrets(e!.message, "pw-in-url");
    expect(() => parsePgUrl("mysql://h/d")).toThrow(/postgres:\/\//);
    expect(() => parsePgUrl("postgres://h/d?sslmode=bogus")).toThrow(/sslmode/);
  });

  it("reads GSMCP_STORE, GSMCP_STORE_CA and GSMCP_STORE_AUTH", async () => {
    expect(await pgStoreOptionsFromEnv({})).toBeUndefined();
    expect(await pgStoreOptionsFromEnv({ GSMCP_STORE: "sqlite" })).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-ca-"));
    try {
      writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
      const o = await pgStoreOptionsFromEnv({ GSMCP_STORE: "postgres://u@h/d", GSMCP_STORE_CA: join(dir, "ca.pem") });
      expect(o?.ssl).toEqual({ ca: expect.stringContaining("BEGIN CERTIFICATE"), rejectUnauthorized: true });
      await expect(
        pgStoreOptionsFromEnv({ GSMCP_STORE: "postgres://u@h/d", GSMCP_STORE_CA: join(dir, "missing.pem") }),
      ).rejects.toBeInstanceOf(StoreUnavailable);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const entra = await pgStoreOptionsFromEnv({ GSMCP_STORE: "postgres://u@h/d", GSMCP_STORE_AUTH: "entra" });
    expect(entra?.credential?.constructor.name).toBe("DefaultAzureCredential");
    await expect(
      pgStoreOptionsFromEnv({ GSMCP_STORE: "postgres://u@h/d", GSMCP_STORE_AUTH: "kerberos" }),
    ).rejects.toThrow(/GSMCP_STORE_AUTH/);
  });

  it("refuses quickly, as StoreUnavailable, when nothing listens", async () => {
    const { error, ms } = await rejection(
      openPgStore({ url: "postgres://u:pw-nothing@127.0.0.1:1/d", connectionTimeoutMillis: 2000 }),
    );
    expect(error).toBeInstanceOf(StoreUnavailable);
    expect(error.message).toBe("PostgreSQL store at postgres://127.0.0.1:1/d is unavailable: connection refused");
    expect(ms).toBeLessThan(3000);
  });
});

describePg("PostgreSQL store: logins, schema, locks", pgdb, (db) => {
  it("a wrong password: StoreUnavailable naming host, port and database, never the password or the URL", async () => {
    const url = await freshPgDatabase(db);
    const u = new URL(url);
    const good = decodeURIComponent(u.password);
    u.password = "wrong-password-1234";
    const { error } = await rejection(openPgStore({ url: u.toString(), migrate: true }));
    expect(error).toBeInstanceOf(StoreUnavailable);
    expect(error.message).toMatch(/authentication failed \(28P01\)$/);
    expect(error.message).toContain(`postgres://${u.hostname}:${u.port}${u.pathname}`);
    expectNoSecrets(`${error.message}\n${error.stack}\n${JSON.stringify(error)}`, "wrong-password-1234", good, url);
    expect((error as Error & { code?: string }).code).toBe("28P01");
  });

  it("Entra: an access token for the ossrdbms scope is the password, fetched per connection", async () => {
    const login = db.serverPasswordUser ?? db.owner;
    const u = new URL(await freshPgDatabase(db, login.user));
    u.username = login.user;
    u.password = "not-the-password"; // ignored: the credential's token is the password
    const scopes: string[] = [];
    const credential = {
      async getToken(scope: string) {
        scopes.push(scope);
        return { token: login.password };
      },
    };
    const s = await openPgStore({ url: u.toString(), credential, migrate: true, max: 3 });
    try {
      await Promise.all(Array.from({ length: 6 }, () => s.receipts.append(draft("job-entra"), seal)));
      expect((await s.receipts.head()).seq).toBe(6);
      expect(scopes.length).toBeGreaterThanOrEqual(1);
      expect(new Set(scopes)).toEqual(new Set([ENTRA_PG_SCOPE]));
      expect(ENTRA_PG_SCOPE).toBe("https://ossrdbms-aad.database.windows.net/.default");
    } finally {
      await s.close();
    }
    // A wrong token, no token, a failing credential: StoreUnavailable, and the token is not repeated.
    const wrong = await rejection(
      openPgStore({ url: u.toString(), credential: { getToken: async () => ({ token: "eyJwrong-token" }) } }),
    );
    expect(wrong.error).toBeInstanceOf(StoreUnavailable);
    expect(wrong.error.message).toMatch(/authentication failed/);
    expectNoSecrets(wrong.error.message, "eyJwrong-token", login.password);
    const none = await rejection(openPgStore({ url: u.toString(), credential: { getToken: async () => null } }));
    expect(none.error.message).toMatch(/the Entra credential returned no access token/);
    const failing = await rejection(
      openPgStore({
        url: u.toString(),
        credential: {
          getToken: async () => {
            throw new Error("CredentialUnavailableError: no managed identity");
          },
        },
      }),
    );
    expect(failing.error).toBeInstanceOf(StoreUnavailable);
    expect(failing.error.message).toMatch(/the Entra credential failed: CredentialUnavailableError/);
  });

  it("TLS asked of a server without it: StoreUnavailable", async () => {
    const u = new URL(await freshPgDatabase(db));
    u.searchParams.set("sslmode", "require");
    const { error } = await rejection(openPgStore({ url: u.toString(), migrate: true }));
    expect(error).toBeInstanceOf(StoreUnavailable);
    expect(error.message).toMatch(/TLS negotiation failed/);
  });

  it("an empty or older schema refuses without migrate; migrate applies it once, even raced", async () => {
    const url = await freshPgDatabase(db);
    const { error } = await rejection(openPgStore({ url }));
    expect(error).toBeInstanceOf(StoreUnavailable);
    expect(error.message).toBe(
      `the store's schema is version 0, this gsmcp needs ${PG_SCHEMA_VERSION}: run gsmcp store migrate`,
    );
    const raced = await Promise.all([
      migratePgStore({ url }),
      migratePgStore({ url }),
      openPgStore({ url, migrate: true }).then(async (s) => {
        const v = await s.schemaVersion();
        await s.close();
        return { from: -1, to: v, where: s.where };
      }),
    ]);
    expect(raced.map((r) => r.to)).toEqual([PG_SCHEMA_VERSION, PG_SCHEMA_VERSION, PG_SCHEMA_VERSION]);
    expect(raced.filter((r) => r.from === 0).length).toBeLessThanOrEqual(1);
    expect(await migratePgStore({ url })).toEqual({
      from: PG_SCHEMA_VERSION,
      to: PG_SCHEMA_VERSION,
      where: parsePgUrl(url).where,
    });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const rows = (await c.query<{ version: number }>("SELECT version FROM schema_version ORDER BY version")).rows;
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
    } finally {
      await c.end();
    }
    const s = await openPgStore({ url });
    expect(await s.schemaVersion()).toBe(PG_SCHEMA_VERSION);
    await s.close();
  });

  it("a store at an older version is migrated step by step, keeping its log", async () => {
    const url = await freshPgDatabase(db);
    // Version 1 as an older gsmcp left it, with a receipt in it.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(
        "CREATE TABLE schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
      );
      await c.query(PG_MIGRATIONS[0]!);
      await c.query("INSERT INTO schema_version (version) VALUES (1)");
      const r = seal(draft("job-old"), { seq: 0, hash: `sha256:${"0".repeat(64)}` }, 0);
      await c.query(
        "INSERT INTO receipts (seq, receipt_id, job, hash, phase, policy_hash, body) VALUES (1, $1, $2, $3, 'single', $4, $5)",
        [r.receipt.receipt_id, r.receipt.job, r.hash, r.receipt.policy_hash, JSON.stringify(r.receipt)],
      );
      await c.query("UPDATE log_head SET seq = 1, hash = $1", [r.hash]);
    } finally {
      await c.end();
    }
    const { error } = await rejection(openPgStore({ url }));
    expect(error.message).toBe(
      `the store's schema is version 1, this gsmcp needs ${PG_SCHEMA_VERSION}: run gsmcp store migrate`,
    );
    expect(await migratePgStore({ url })).toEqual({ from: 1, to: PG_SCHEMA_VERSION, where: parsePgUrl(url).where });
    const s = await openPgStore({ url });
    try {
      await s.receipts.append(draft("job-old"), seal);
      const chain = await chainOf(s);
      expect(chain.map((r) => r.job_prev_seq)).toEqual([0, 1]);
    } finally {
      await s.close();
    }
  });

  it("a schema newer than the code refuses: upgrade gsmcp", async () => {
    const url = await freshPgDatabase(db);
    await migratePgStore({ url });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("INSERT INTO schema_version (version) VALUES ($1)", [PG_SCHEMA_VERSION + 1]);
    await c.end();
    const message = `the store's schema is version ${PG_SCHEMA_VERSION + 1}, this gsmcp knows ${PG_SCHEMA_VERSION}: upgrade gsmcp`;
    for (const p of [
      () => openPgStore({ url }),
      () => openPgStore({ url, migrate: true }),
      () => migratePgStore({ url }),
    ]) {
      const { error } = await rejection(p());
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect(error.message).toBe(message);
    }
  });

  it("a held append lock and an exhausted pool: StoreUnavailable within the timeouts, then it goes on", async () => {
    const url = await freshPgDatabase(db);
    const s = await openPgStore({
      url,
      migrate: true,
      max: 1,
      connectionTimeoutMillis: 500,
      statementTimeoutMillis: 800,
    });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await s.jobs.touch("job-lock", "agent-1", "sha256:p", new Date(T0).toISOString());
      await s.receipts.append(draft("job-lock"), seal, usage("job-lock"));
      await holder.query("BEGIN");
      await holder.query("SELECT * FROM log_head FOR UPDATE");
      const d = draft("job-lock");
      const locked = rejection(s.receipts.append(d, seal, usage("job-lock")));
      // Meanwhile the pool's only connection is taken: the next call waits for it, then gives up.
      const exhausted = await rejection(s.receipts.head());
      expect(exhausted.error).toBeInstanceOf(StoreUnavailable);
      expect(exhausted.error.message).toMatch(/unavailable: connection timed out$/);
      expect(exhausted.ms).toBeLessThan(3000); // 500 ms connection timeout, on a loaded machine
      const { error, ms } = await locked;
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect(error.message).toMatch(/timed out waiting for a lock|statement timed out/);
      expect(ms).toBeLessThan(4000); // 800 ms lock/statement timeout
      await holder.query("ROLLBACK");
      expect(await s.receipts.get(d.receipt_id)).toBeUndefined();
      expect((await s.jobs.get("job-lock"))?.calls).toBe(1);
      await s.receipts.append(draft("job-lock"), seal, usage("job-lock"));
      expect((await chainOf(s)).length).toBe(2);
      expect((await s.jobs.get("job-lock"))?.calls).toBe(2);
    } finally {
      await holder.end();
      await s.close();
    }
  });
});

const ownReason = pgdb.available ? ownServerUnavailable() : pgdb.reason;
describe.skipIf(ownReason !== undefined)("PostgreSQL store: the server stops, restarts, freezes", () => {
  let server: OwnPgServer;
  beforeAll(async () => {
    server = await startOwnServer();
  }, 120_000);
  afterAll(() => server?.destroy());

  it("stopped mid-run: appends fail closed within seconds, none half-committed; after a restart the chain goes on", async () => {
    const u = new URL(server.url);
    u.pathname = "/gsmcp_restart";
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query("CREATE DATABASE gsmcp_restart");
    await admin.end();
    const opts = { url: u.toString(), migrate: true, connectionTimeoutMillis: 2000, statementTimeoutMillis: 2000 };
    const stores = await Promise.all([openPgStore(opts), openPgStore(opts), openPgStore(opts)]);
    try {
      await stores[0]!.jobs.touch("job-r", "agent-1", "sha256:p", new Date(T0).toISOString());
      for (let i = 0; i < 5; i++) await stores[i % 3]!.receipts.append(draft("job-r"), seal, usage("job-r"));

      // Appends in flight from three instances when the server stops.
      const inflight = Array.from({ length: 30 }, (_, i) => {
        const d = draft("job-r");
        return { d, p: stores[i % 3]!.receipts.append(d, seal, usage("job-r")) };
      });
      await new Promise((r) => setTimeout(r, 30));
      server.stop();
      const settled = await Promise.allSettled(inflight.map((x) => x.p));
      for (const r of settled) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(StoreUnavailable);

      // While it is down: a clear, quick refusal from every instance.
      const down: string[] = [];
      for (const s of stores) {
        const d = draft("job-r");
        const { error, ms } = await rejection(s.receipts.append(d, seal, usage("job-r")));
        expect(error).toBeInstanceOf(StoreUnavailable);
        expect(ms).toBeLessThan(5000);
        expectNoSecrets(error.message, u.password, server.url);
        down.push(d.receipt_id);
      }

      server.start();
      // The pool reconnects: the first call after the restart works.
      const after = await stores[1]!.receipts.append(draft("job-r"), seal, usage("job-r"));
      const chain = await chainOf(stores[2]!);
      expect(after.receipt.seq).toBe(chain.length);
      const ids = new Set(chain.map((r) => r.receipt_id));
      inflight.forEach((x, i) => {
        if (settled[i]!.status === "fulfilled") expect(ids.has(x.d.receipt_id)).toBe(true);
      });
      for (const id of down) expect(ids.has(id)).toBe(false);
      // Usage counted once per committed receipt, no more, no less.
      expect((await stores[0]!.jobs.get("job-r"))?.calls).toBe(chain.length);
      const committedInflight = inflight.filter((x) => ids.has(x.d.receipt_id)).length;
      console.info(
        `restart: ${settled.filter((r) => r.status === "fulfilled").length} of 30 in-flight appends confirmed, ${committedInflight} committed; chain of ${chain.length} verifies`,
      );
    } finally {
      for (const s of stores) await s.close();
    }
  }, 90_000);

  it("frozen (connections hang): StoreUnavailable within the timeouts, not a hang; thawed, it works again", async () => {
    const u = new URL(server.url);
    u.pathname = "/gsmcp_freeze";
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query("CREATE DATABASE gsmcp_freeze");
    await admin.end();
    const s = await openPgStore({
      url: u.toString(),
      migrate: true,
      connectionTimeoutMillis: 1000,
      statementTimeoutMillis: 1000,
    });
    try {
      await s.receipts.append(draft("job-f"), seal);
      server.freeze();
      let thawed = false;
      try {
        const d = draft("job-f");
        const { error, ms } = await rejection(s.receipts.append(d, seal));
        expect(error).toBeInstanceOf(StoreUnavailable);
        expect(ms).toBeLessThan(5000);
        const fresh = await rejection(s.receipts.head());
        expect(fresh.error).toBeInstanceOf(StoreUnavailable);
        server.thaw();
        thawed = true;
        await s.receipts.append(draft("job-f"), seal);
        const chain = await chainOf(s);
        expect(chain.map((r) => r.receipt_id)).not.toContain(d.receipt_id);
        expect(chain.length).toBe(2);
      } finally {
        if (!thawed) server.thaw();
      }
    } finally {
      await s.close();
    }
  }, 60_000);
});
