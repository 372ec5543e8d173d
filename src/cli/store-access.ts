import { type HomeConfig, type HomePaths, requireHome } from "../governance/home.js";
import type { StateStore } from "../state/contract.js";
import { openStore } from "../state/open.js";

/** Runs `fn` on the state store this home uses (SQLite in GSMCP_HOME, or GSMCP_STORE's PostgreSQL), then closes it. */
export async function withStore<T>(
  home: string,
  fn: (store: StateStore, home: { paths: HomePaths; config: HomeConfig }) => Promise<T>,
): Promise<T> {
  const h = requireHome(home);
  const store = await openStore(h.paths);
  try {
    return await fn(store, h);
  } finally {
    await store.close();
  }
}
