import { compileRegex } from "../kql/regex.js";
import { SENTINEL_TABLE_SCHEMAS } from "../sentinel/table-schemas.js";
import type { WorkPolicyContract } from "../types/wpc.js";
import { isoDurationMs } from "./decide.js";

export interface LintFinding {
  level: "error" | "warning";
  field: string;
  message: string;
}

/** Semantic checks beyond the schema: things that are valid JSON but probably not what the author meant. */
export function lintPolicy(wpc: WorkPolicyContract, knownOps: string[], writeOps: string[]): LintFinding[] {
  const f: LintFinding[] = [];
  const sentinelRules = (rules: WorkPolicyContract["allow"] | undefined, name: string) =>
    (rules ?? []).flatMap((r, i) =>
      r.tool === "sentinel.api" ? r.ops.map((op, j) => ({ op, field: `${name}[${i}].ops[${j}]` })) : [],
    );
  const allowed = sentinelRules(wpc.allow, "allow");
  const denied = sentinelRules(wpc.deny, "deny");
  for (const { op, field } of [...allowed, ...denied]) {
    if (op !== "*" && !knownOps.includes(op))
      f.push({ level: "warning", field, message: `"${op}" is not an operation of this server (typo?)` });
  }
  for (const { op, field } of allowed) {
    if (denied.some((d) => d.op === op || d.op === "*"))
      f.push({ level: "warning", field, message: `"${op}" is both allowed and denied; deny wins` });
    if (op === "*")
      f.push({
        level: "warning",
        field,
        message: `"*" allows every operation, including future ones; list ops explicitly`,
      });
  }
  const gated = new Set((wpc.approvals ?? []).flatMap((a) => a.required_for));
  for (const { op, field } of allowed) {
    if (writeOps.includes(op) && !gated.has(op)) {
      f.push({ level: "warning", field, message: `write "${op}" is allowed without an approval gate` });
    }
  }
  if (!wpc.token_requirements.require_policy_hash_pinning) {
    f.push({
      level: "warning",
      field: "token_requirements.require_policy_hash_pinning",
      message: "tokens are not pinned to this policy; set it to true",
    });
  }
  if (wpc.token_requirements.cst_ttl_seconds_max > 3600) {
    f.push({
      level: "warning",
      field: "token_requirements.cst_ttl_seconds_max",
      message: "tokens may live longer than an hour; prefer ≤ 900 s",
    });
  }
  for (const [key, c] of Object.entries(wpc.constraints ?? {})) {
    if (key !== "*" && !knownOps.includes(key))
      f.push({ level: "warning", field: `constraints.${key}`, message: `"${key}" is not an operation of this server` });
    if (c.kql?.max_timespan) {
      try {
        isoDurationMs(c.kql.max_timespan);
      } catch (e) {
        f.push({ level: "error", field: `constraints.${key}.kql.max_timespan`, message: (e as Error).message });
      }
    }
  }
  for (const [i, p] of (wpc.redaction?.patterns ?? []).entries()) {
    try {
      compileRegex(p.regex);
    } catch (e) {
      f.push({
        level: "error",
        field: `redaction.patterns[${i}].regex`,
        message: `not an RE2 regular expression (patterns run on RE2, linear time): ${(e as Error).message}`,
      });
    }
  }
  const known = new Map(SENTINEL_TABLE_SCHEMAS.tables.map((t) => [t.name, new Set(t.columns.map((c) => c.name))]));
  for (const [i, spec] of (wpc.redaction?.columns ?? []).entries()) {
    const [table, column] = spec.split(".") as [string, string];
    const exists =
      table === "*" ? [...known.values()].some((cols) => cols.has(column)) : known.get(table)?.has(column) === true;
    if (!exists)
      f.push({
        level: "warning",
        field: `redaction.columns[${i}]`,
        message: `"${spec}" names no column of the workspace's tables; nothing will be masked for it`,
      });
  }
  const kqlAllowed = allowed.some((a) => a.op === "kql.query");
  if (
    kqlAllowed &&
    !wpc.constraints?.["kql.query"]?.kql?.allowed_tables &&
    !wpc.constraints?.["*"]?.kql?.allowed_tables
  ) {
    f.push({
      level: "warning",
      field: "constraints.kql.query.kql.allowed_tables",
      message: "kql.query may read every table; list allowed_tables",
    });
  }
  return f;
}
