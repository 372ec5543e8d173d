import type { HomePaths } from "../governance/home.js";
import type { StateStore } from "./contract.js";
import { openSqliteStore } from "./sqlite-store.js";

/**
 * The state store this process uses: GSMCP_STORE unset (or empty) = SQLite in GSMCP_HOME/state.db; a postgres:// URL
 * = PostgreSQL, shared by every server, replica and CLI that names it (TLS with GSMCP_STORE_CA, Entra sign-in with
 * GSMCP_STORE_AUTH=entra). Anything else is refused with the fix.
 */
export async function openStore(paths: HomePaths, env: NodeJS.ProcessEnv = process.env): Promise<StateStore> {
  const url = env.GSMCP_STORE?.trim();
  if (!url) return openSqliteStore(paths.stateDb);
  if (!/^postgres(ql)?:\/\//i.test(url))
    throw new Error(
      'GSMCP_STORE must be a postgres:// (or postgresql://) URL, or unset for SQLite in GSMCP_HOME — e.g. GSMCP_STORE="postgres://gsmcp@db.example.com:5432/gsmcp?sslmode=verify-full"',
    );
  // Loaded only when used: the embedded default never loads the PostgreSQL driver.
  const { pgStoreFromEnv } = await import("./pg-store.js");
  return (await pgStoreFromEnv({ ...env, GSMCP_STORE: url }))!;
}
