// A fresh, empty PostgreSQL database per test (within a file's withPgDatabase server), owned by the file's owner role,
// dropped by dropFreshPgDatabases (register it with afterAll at the top of the file, after withPgDatabase: hooks run
// in reverse, so they are dropped before the owner role is). Tests that need an empty log (seq from 1) each take one.
import { randomBytes } from "node:crypto";
import { adminClient, type PgAvailable } from "./postgres.js";

const made: { admin: string; name: string }[] = [];

/**
 * A new database on the file's server: its owner-role URL (password login over TCP, as a deployment would use).
 * `owner`: another existing role to own it (e.g. the server's password user gsmcp_pw); the URL is still the file's.
 */
export async function freshPgDatabase(db: PgAvailable, owner = db.owner.user): Promise<string> {
  const name = `gsmcp_fresh_${randomBytes(6).toString("hex")}`;
  const admin = adminClient(db.url);
  await admin.connect();
  try {
    // A generated hex name and a role of the helper's or the script's: nothing to quote.
    await admin.query(`CREATE DATABASE ${name} OWNER ${owner}`);
  } finally {
    await admin.end();
  }
  made.push({ admin: db.url, name });
  const u = new URL(db.owner.url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops the databases freshPgDatabase made. */
export async function dropFreshPgDatabases(): Promise<void> {
  for (const m of made.splice(0)) {
    const c = adminClient(m.admin);
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${m.name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  }
}
