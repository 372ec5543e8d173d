import { expect } from "vitest";
import type { Decision, KqlFacts } from "../../src/governance/decide.js";
import { analyzeKqlSync, type KqlAnalysis, type KqlSchema } from "../../src/kql/analyzer.js";
import { executeKql } from "../../src/kql/index.js";
import type { KqlTable } from "../../src/kql/types.js";
import { maskColumns } from "../../src/tools/kql/bounded.js";
import type { ToolContext } from "../../src/tools/types.js";
import { source } from "./fixtures.js";

// The lineage harness: a SigninLogs table whose redacted UserPrincipalName carries a secret, and `run(query)`, which
// analyses the query under column redaction, executes it on the engine, masks the result as the server does, and
// throws if the secret — or a 4-character piece of it, in any common encoding — survives. It also says whether the
// same query, unmasked, would have handed the secret out (so a test can show it has teeth).

export const SECRET = "Qz7Wx9Kp";
export const NOW = Date.parse("2026-03-01T12:00:00Z");
const H = 3_600_000;
export const SIGNINS: KqlTable = {
  name: "SigninLogs",
  columns: [
    { name: "TimeGenerated", type: "datetime" },
    { name: "UserPrincipalName", type: "string" },
    { name: "IPAddress", type: "string" },
    { name: "Id", type: "long" },
  ],
  rows: [
    [NOW - H, `${SECRET}@evil.example`, "203.0.113.45", 1],
    [NOW - 2 * H, `${SECRET}.two@evil.example`, "10.0.0.4", 2],
    [NOW - 3 * H, SECRET, "10.0.0.5", 3],
  ],
};
export const SCHEMA: KqlSchema = {
  tables: [{ name: SIGNINS.name, columns: SIGNINS.columns }],
  functions: [{ name: "SigninView", body: "SigninLogs | project Who = UserPrincipalName, IPAddress, Id" }],
};
export const SRC = source([SIGNINS], { SigninView: SCHEMA.functions![0]!.body });
export const REDACTED = ["SigninLogs.UserPrincipalName"];

/** Every way the secret (or a 4-character piece of it) could be written into the output. */
export function leaks(text: string): boolean {
  const lower = text.toLowerCase();
  const alnum = lower.replace(/[^a-z0-9]/g, "");
  const forms = [SECRET, [...SECRET].reverse().join("")].flatMap((s) => {
    const pieces: string[] = [];
    for (let i = 0; i + 4 <= s.length; i++) pieces.push(s.slice(i, i + 4));
    return [
      ...pieces,
      Buffer.from(s).toString("base64").slice(0, 8),
      Buffer.from(s).toString("base64url").slice(0, 8),
      Buffer.from(s).toString("hex"),
      [...s].map((c) => c.charCodeAt(0)).join(","),
    ];
  });
  return forms.some((f) => {
    const lf = f.toLowerCase();
    return lower.includes(lf) || alnum.includes(lf.replace(/[^a-z0-9]/g, "")) || lower.replace(/\s/g, "").includes(lf);
  });
}

export type Outcome = "masked-clean" | "refused" | "not-analysable" | "engine-error" | "analysis-timeout";

/** A count per outcome, all zero. */
export function emptyTally(): Record<Outcome, number> {
  return { "masked-clean": 0, refused: 0, "not-analysable": 0, "engine-error": 0, "analysis-timeout": 0 };
}

export interface Run {
  outcome: Outcome;
  ungovernedLeaked: boolean;
}

export function run(query: string): Run {
  return judge(query, analyzeKqlSync(query, SCHEMA, { redactedColumns: REDACTED }));
}

/**
 * `run` with the analysis done elsewhere (the fuzzer analyses on a worker with a deadline, as the server does: the
 * language service never returns for some queries, and a fuzzer would otherwise hang on one).
 */
export function judge(query: string, a: KqlAnalysis): Run {
  if (!a.ok) return { outcome: "not-analysable", ungovernedLeaked: false };
  let result: ReturnType<typeof executeKql>;
  try {
    result = executeKql(query, SRC, { now: NOW });
  } catch {
    return { outcome: "engine-error", ungovernedLeaked: false };
  }
  const ungovernedLeaked = leaks(JSON.stringify(result.rows));
  if (a.lineage?.unknown) return { outcome: "refused", ungovernedLeaked };
  expect(a.lineage, `lineage must apply to ${query}`).toBeDefined();
  const kql: KqlFacts = {
    ok: true,
    diagnostics: [],
    tables: a.tables,
    forbidden: [],
    functions: a.functions,
    lineage: a.lineage!,
  };
  const decision: Decision = {
    effect: "CONSTRAIN",
    reasons: [],
    constraints: a.lineage!.masked.length
      ? [
          {
            kind: "column_redaction",
            columns: a.lineage!.masked,
            outputColumns: a.lineage!.outputColumns,
            redacted: REDACTED,
          },
        ]
      : [],
  };
  const table = { columns: [...result.columns], rows: result.rows.map((r) => [...r]) };
  maskColumns(table, { decision, kql } as unknown as ToolContext);
  const text = JSON.stringify(table.rows);
  if (leaks(text)) throw new Error(`secret leaked through:\n  ${query}\n  output: ${text.slice(0, 400)}`);
  return { outcome: "masked-clean", ungovernedLeaked };
}
