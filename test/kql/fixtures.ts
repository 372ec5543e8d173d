import { executeKql, type KqlError } from "../../src/kql/index.js";
import type { KqlDataSource, KqlErrorInfo, KqlExecuteOptions, KqlTable } from "../../src/kql/types.js";

// Shared hand-made fixtures. Expected answers in the tests are worked out by hand (or by plain JS) from these rows.

export const H = 3_600_000;
export const NOW = Date.parse("2026-03-01T12:00:00Z");

export const SIGNINS: KqlTable = {
  name: "SigninLogs",
  columns: [
    { name: "TimeGenerated", type: "datetime" },
    { name: "UserPrincipalName", type: "string" },
    { name: "IPAddress", type: "string" },
    { name: "ResultType", type: "string" },
    { name: "Score", type: "long" },
  ],
  rows: [
    [NOW - 1 * H, "adele@contoso.com", "203.0.113.45", "50126", 3],
    [NOW - 2 * H, "alex@contoso.com", "203.0.113.45", "50126", 5],
    [NOW - 3 * H, "adele@contoso.com", "203.0.113.45", "0", 7],
    [NOW - 30 * H, "diego@contoso.com", "10.0.0.4", "0", null],
    [NOW - 50 * H, "Adele@Contoso.com", "10.0.0.5", "0", 1],
  ],
};

export const ALERTS: KqlTable = {
  name: "SecurityAlert",
  columns: [
    { name: "TimeGenerated", type: "datetime" },
    { name: "AlertName", type: "string" },
    { name: "CompromisedEntity", type: "string" },
    { name: "Entities", type: "dynamic" },
  ],
  rows: [
    [NOW - 1 * H, "Impossible travel", "adele@contoso.com", [{ Type: "ip", Address: "203.0.113.45" }]],
    [NOW - 5 * H, "Password spray", "alex@contoso.com", []],
    [NOW - 40 * H, "Mass download", "diego@contoso.com", null],
  ],
};

export function source(tables: KqlTable[] = [SIGNINS, ALERTS], functions: Record<string, string> = {}): KqlDataSource {
  return {
    table: (n) => tables.find((t) => t.name === n),
    tableNames: () => tables.map((t) => t.name),
    storedFunction: (n) => functions[n],
  };
}

export const SRC = source([SIGNINS, ALERTS], {
  Signins: "SigninLogs",
  FailedSignins: "SigninLogs | where ResultType != '0'",
  Nested: "FailedSignins | project UserPrincipalName",
});

export function run(q: string, opts: KqlExecuteOptions = {}, src: KqlDataSource = SRC) {
  return executeKql(q, src, { now: NOW, ...opts });
}

export const rows = (q: string, opts?: KqlExecuteOptions) => run(q, opts).rows;
export const names = (q: string) => run(q).columns.map((c) => c.name);

export function errorOf(q: string, src: KqlDataSource = SRC): KqlErrorInfo {
  try {
    executeKql(q, src, { now: NOW });
  } catch (e) {
    if ((e as Error).name !== "KqlError") throw e;
    return (e as KqlError).info;
  }
  throw new Error(`expected an error from: ${q}`);
}
