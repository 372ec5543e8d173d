import type { KqlValue } from "../kql/types.js";
import { LOG_TABLES } from "./schemas.js";
import { mulberry32, seedGuid, stableGuid } from "./seed-determinism.js";
import type { SeedRun } from "./seed-run.js";

// Building seeded log rows by column name: a row is laid out in LOG_TABLES order, every column the builder does
// not name is null (as Azure returns a column a record does not carry). Also the identifiers every table shares.

/** One log row of `table` from values by column name; unnamed columns are null, unknown names an error. */
export function rowOf(table: string, values: Record<string, KqlValue | undefined>): KqlValue[] {
  const columns = LOG_TABLES[table];
  if (!columns) throw new Error(`no such log table: ${table}`);
  const at = columnIndex(table);
  for (const name of Object.keys(values))
    if (!at.has(name)) throw new Error(`${table} has no column ${name} (see src/workspace/schemas.ts)`);
  return columns.map((c) => values[c.name] ?? null);
}

/**
 * Fills in, by name, the columns after the first `known` of each row (rows built positionally with only the
 * columns the table had before its full schema). `fill` gets the row's values by name so far.
 */
export function completeRows(
  table: string,
  rows: KqlValue[][],
  fill: (get: (name: string) => KqlValue, i: number) => Record<string, KqlValue | undefined>,
): void {
  const columns = LOG_TABLES[table]!;
  const at = columnIndex(table);
  rows.forEach((r, i) => {
    const known = r.length;
    if (known >= columns.length) return;
    const get = (name: string): KqlValue => {
      const k = at.get(name);
      return k !== undefined && k < r.length ? (r[k] ?? null) : null;
    };
    const extra = fill(get, i);
    for (let k = known; k < columns.length; k++) r.push(extra[columns[k]!.name] ?? null);
  });
}

const indexes = new Map<string, Map<string, number>>();
function columnIndex(table: string): Map<string, number> {
  let m = indexes.get(table);
  if (!m) {
    m = new Map(LOG_TABLES[table]!.map((c, i) => [c.name, i]));
    indexes.set(table, m);
  }
  return m;
}

/** The row list of `table` in this run, created when the run does not gather it yet. */
export function rowsOf(run: SeedRun, table: string): KqlValue[][] {
  run.logs[table] ??= [];
  return run.logs[table]!;
}

/**
 * A PRNG for the detail columns, apart from the run's own: the values the seed drew before the full schemas
 * (which rows fail, from which IP, ...) stay as they were, whatever details are added.
 */
export interface DetailRandom {
  rand: () => number;
  pick: <T>(xs: readonly T[]) => T;
}
export function detailRandom(seed: number, label: string): DetailRandom {
  const h = Number.parseInt(stableGuid(`${seed}:${label}`).slice(0, 8), 16);
  const rand = mulberry32(h);
  return { rand, pick: <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]! };
}

/** A function of strings remembered by argument: the same ids are hashed for thousands of rows. */
export function memo<A extends (string | number)[], R>(f: (...args: A) => R): (...args: A) => R {
  const seen = new Map<string, R>();
  return (...args: A) => {
    const k = args.join("\u0000");
    let r = seen.get(k);
    if (r === undefined) {
      r = f(...args);
      seen.set(k, r);
    }
    return r;
  };
}

/** A seeded GUID (seedGuid), remembered: for ids many rows share. */
export const sharedGuid = memo((seed: number, label: string) => seedGuid(seed, label));
/** The Entra ID tenant of the demo organisation (also the entities' aadTenantId). */
export const aadTenantId = memo((seed: number) => stableGuid(`${seed}:tenant`));
/** The Log Analytics workspace id, which every table's TenantId column carries. */
export const workspaceTenantId = memo((seed: number) => seedGuid(seed, "workspace-customer-id"));
/** A user's Entra ID object id from their UPN (also the Account entities' aadUserId). */
export const userObjectId = memo((seed: number, upn: string) => stableGuid(`${seed}:aad-user:${upn.toLowerCase()}`));
/** A Windows SID for a user of the demo domain. */
export const userSid = memo((seed: number, user: string) => {
  const h = stableGuid(`${seed}:sid:${user}`).replace(/-/g, "");
  const part = (i: number) => Number.parseInt(h.slice(i, i + 8), 16) >>> 1;
  return `S-1-5-21-${part(0)}-${part(8)}-${part(16)}-${1100 + (part(24) % 900)}`;
});
