// The PostgreSQL test infrastructure itself (issue 18): a real server, version 15 or newer, password (SCRAM) logins
// that refuse a wrong password, and no secret printed on the way.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { expect, inject, it } from "vitest";
import { describePg, type PgLogin, withPgDatabase } from "../helpers/postgres.js";

// Record everything this process writes while the helper finds (or starts) the server and makes the database.
const written: string[] = [];
const { stdout, stderr } = process;
const origOut = stdout.write.bind(stdout);
const origErr = stderr.write.bind(stderr);
const tap =
  (orig: typeof origOut) =>
  (chunk: unknown, ...rest: unknown[]): boolean => {
    written.push(String(chunk));
    return (orig as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
  };
stdout.write = tap(origOut) as typeof stdout.write;
stderr.write = tap(origErr) as typeof stderr.write;
const db = await (async () => {
  try {
    return await withPgDatabase();
  } finally {
    stdout.write = origOut;
    stderr.write = origErr;
  }
})();

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

async function refused(login: PgLogin): Promise<unknown> {
  const u = new URL(login.url);
  u.password = `${login.password}x`;
  const c = new pg.Client({ connectionString: u.toString() });
  try {
    await c.connect();
    await c.end();
    return undefined;
  } catch (e) {
    return e;
  }
}

describePg("PostgreSQL test server", db, (db) => {
  it("is PostgreSQL 15 or newer, and this file has its own fresh database", async () => {
    const [v] = await query<{ server_version_num: string }>(db.url, "SHOW server_version_num");
    expect(Number(v!.server_version_num)).toBeGreaterThanOrEqual(150000);
    const [d] = await query<{ db: string; tables: string }>(
      db.url,
      "SELECT current_database() AS db, (SELECT count(*) FROM pg_tables WHERE schemaname = 'public') AS tables",
    );
    expect(d).toEqual({ db: db.database, tables: "0" });
  });

  it("lets the database's owner role in with its password and can create tables there", async () => {
    const [u] = await query<{ user: string; db: string }>(
      db.owner.url,
      "SELECT current_user AS user, current_database() AS db",
    );
    expect(u).toEqual({ user: db.owner.user, db: db.database });
    await query(db.owner.url, "CREATE TABLE t (x int); DROP TABLE t");
  });

  it("refuses a wrong password (SCRAM over TCP)", async () => {
    const e = (await refused(db.owner)) as { code?: string } | undefined;
    expect(e?.code).toBe("28P01"); // invalid_password
  });

  it.skipIf(!db.serverPasswordUser)(
    "the server's password user gsmcp_pw logs in, and not with a wrong password",
    async () => {
      const login = db.serverPasswordUser!;
      const [u] = await query<{ user: string }>(login.url, "SELECT current_user AS user");
      expect(u!.user).toBe(login.user);
      const e = (await refused(login)) as { code?: string } | undefined;
      expect(e?.code).toBe("28P01");
    },
  );

  it("prints no URL or password while finding the server and making the database", () => {
    const secrets = [new URL(db.url).password, db.owner.password, db.serverPasswordUser?.password].filter(
      (s): s is string => !!s,
    );
    expect(secrets.length).toBeGreaterThan(0);
    const logs = [...written];
    // The script's progress output (stderr), kept by whichever file started the shared server.
    const runDir = inject("gsmcpPgRunDir");
    if (runDir && existsSync(join(runDir, "start.log"))) logs.push(readFileSync(join(runDir, "start.log"), "utf8"));
    const all = logs.join("\n");
    for (const s of secrets) expect(all).not.toContain(s);
    expect(all).not.toMatch(/postgres(ql)?:\/\/[^\s]*:[^\s]*@/);
  });
});
