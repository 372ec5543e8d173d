import type { Constraints, WorkPolicyContract } from "../types/wpc.js";
import { type ApprovalRuleView, approvalRuleView } from "./approval-rules.js";
import type { GovernanceCode } from "./errors.js";

// The pure evaluator: a request in, a Decision out. No I/O, no clock; everything it needs is in the request,
// so `proof verify` can re-run it offline on a recorded receipt and get the same answer.

export type Effect = "ALLOW" | "CONSTRAIN" | "LOG" | "BLOCK";

/** Reasons that explain an executed call; a BLOCK's last reason is always a refusal code (GovernanceCode). */
export type NoteCode =
  | "governance_op"
  | "op_allowed"
  | "budget_near"
  | "column_redaction"
  | "timespan_capped"
  | "row_cap"
  | "suspicious_content"
  | "operator_rollback";

/** One closed set: what a decision, a receipt and a verifier can say about a call. */
export type ReasonCode = GovernanceCode | NoteCode;

export interface Reason {
  code: ReasonCode;
  message: string;
  /** Where in the policy the reason comes from, e.g. "deny[0]" or "constraints.kql.query.max_rows". */
  rule?: string;
}

export type Constraint =
  | { kind: "max_rows"; value: number; requested?: number }
  | { kind: "max_result_bytes"; value: number }
  | { kind: "timespan"; value: string; requested?: string }
  | { kind: "redaction"; builtin: string[]; fields: string[]; patterns: string[] }
  /** Query output columns masked because they may derive from a redacted column (lineage; see src/kql/lineage.ts). */
  | { kind: "column_redaction"; columns: string[]; outputColumns: string[]; redacted: string[] }
  /** Hard wall-clock limit for a query: the API's server timeout, the local worker terminated at it. */
  | { kind: "query_timeout"; seconds: number };

export interface Decision {
  effect: Effect;
  reasons: Reason[];
  /** Set on BLOCK: the refusal, typed, as it reaches the MCP error, the receipt and the telemetry ErrorCode. */
  refusal?: Reason & { code: GovernanceCode };
  constraints: Constraint[];
  /** Set when the op passes policy but needs an approval before it may run. */
  approval?: ApprovalRuleView;
}

/** Facts about a KQL query, produced by the analyzer before deciding. */
export interface KqlFacts {
  ok: boolean;
  diagnostics: string[];
  tables: string[];
  forbidden: { construct: string; line?: number; column?: number }[];
  /** ISO 8601 duration the caller asked for, if any. */
  requestedTimespan?: string;
  /** Set when the query text came from Sentinel, not the arguments (a saved hunting query): what was analysed. */
  source?: { ref: string; query: string; query_sha256: string };
  /** Functions the query calls, built-in and stored (transitively); the engine's stored-function reads must be among them. */
  functions?: string[];
  /** Column lineage, when the policy redacts columns of a table the query reads. */
  lineage?: KqlLineage;
}

export interface KqlLineage {
  redactedColumns: string[];
  outputColumns: string[];
  masked: string[];
  predicates: string[];
  unknown?: { construct: string; line: number; column: number; reason: string };
}

/** Default hard limit for one query when the policy sets no kql.max_query_seconds. */
export const DEFAULT_MAX_QUERY_SECONDS = 10;

export interface DecisionRequest {
  op: string;
  /** The op changes Sentinel state. */
  write: boolean;
  /** The job's token scope (op ids) and optional workspace pin. */
  tokenScope: string[];
  tokenWorkspaces?: string[];
  /** The token's tenant pin. */
  tokenTenants?: string[];
  /** Workspace the call targets (name). */
  workspace: string;
  /** The tenant that workspace belongs to (registry); absent in requests recorded before the registry. */
  tenant?: string;
  /** Rows the caller asked for (limit/top), when the op has one. */
  requestedRows?: number;
  kql?: KqlFacts;
  /** Untrusted-content signals already seen in this job (e.g. injection patterns in incident text). */
  suspiciousContent?: string[];
  /** Usage so far in the job, for budgets. */
  usage?: {
    calls: number;
    rows: number;
    callsLastMinute: number;
    /** Earlier queries in the job with predicates on redacted columns (set when this query has some). */
    redactedPredicateQueries?: number;
  };
}

export const ALL_KQL_FORBIDDEN = [
  "externaldata",
  "workspace",
  "app",
  "cluster",
  "database",
  "union_wildcard",
  "evaluate",
  "table_dynamic",
  "control_command",
];

/** Governance-only ops are always available: they read the caller's own state and never touch Sentinel. */
export function isGovernanceOp(op: string): boolean {
  return op.startsWith("governance.");
}

function matches(pattern: string, op: string): boolean {
  return pattern === "*" || pattern === op;
}

function ruleIndex(rules: WorkPolicyContract["deny"], op: string, prefix: string): string | undefined {
  for (const [i, r] of (rules ?? []).entries()) {
    if (r.tool === "sentinel.api" && r.ops.some((p) => matches(p, op))) return `${prefix}[${i}]`;
  }
  return undefined;
}

/**
 * Ops that run KQL from elsewhere (a saved query) are bound by kql.query's constraints: running a stored query is
 * still running a query. Their own entry can only narrow further.
 */
export const KQL_CONSTRAINTS_OF: Record<string, string> = { "huntingQueries.run": "kql.query" };

/** Constraints for an op: the "*" entry merged with the op's entry, the stricter value winning. */
export function effectiveConstraints(wpc: WorkPolicyContract, op: string): Constraints {
  const inherited = KQL_CONSTRAINTS_OF[op];
  if (inherited) return mergeConstraints(effectiveConstraints(wpc, inherited), wpc.constraints?.[op] ?? {});
  return mergeConstraints(wpc.constraints?.["*"] ?? {}, wpc.constraints?.[op] ?? {});
}

function mergeConstraints(base: Constraints, own: Constraints): Constraints {
  const min = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
  const inter = (a?: string[], b?: string[]) =>
    a === undefined ? b : b === undefined ? a : a.filter((x) => b.includes(x));
  const out: Constraints = {};
  const maxRows = min(base.max_rows, own.max_rows);
  if (maxRows !== undefined) out.max_rows = maxRows;
  const maxBytes = min(base.max_result_bytes, own.max_result_bytes);
  if (maxBytes !== undefined) out.max_result_bytes = maxBytes;
  const ws = inter(base.workspaces, own.workspaces);
  if (ws !== undefined) out.workspaces = ws;
  const tenants = inter(base.tenants, own.tenants);
  if (tenants !== undefined) out.tenants = tenants;
  if (base.kql || own.kql) {
    const bk = base.kql ?? {};
    const ok = own.kql ?? {};
    const seconds = min(bk.max_query_seconds, ok.max_query_seconds);
    const tables = inter(bk.allowed_tables, ok.allowed_tables);
    const forbidden = [...new Set([...(bk.forbidden ?? []), ...(ok.forbidden ?? [])])];
    const spans = [bk.max_timespan, ok.max_timespan].filter((s): s is string => !!s);
    out.kql = {
      ...(tables ? { allowed_tables: tables } : {}),
      ...(bk.forbidden || ok.forbidden ? { forbidden: forbidden as NonNullable<Constraints["kql"]>["forbidden"] } : {}),
      ...(spans.length ? { max_timespan: spans.sort((a, b) => isoDurationMs(a) - isoDurationMs(b))[0] } : {}),
      ...(bk.templates_only || ok.templates_only ? { templates_only: true } : {}),
      ...(bk.templates || ok.templates ? { templates: { ...bk.templates, ...ok.templates } } : {}),
      ...(seconds !== undefined ? { max_query_seconds: seconds } : {}),
    };
  }
  return out;
}

/** Ops the job may call: (policy allow-set minus deny-set) ∩ token scope. */
export function effectiveScope(wpc: WorkPolicyContract, tokenScope: string[], knownOps: string[]): string[] {
  return knownOps.filter(
    (op) =>
      isGovernanceOp(op) ||
      (tokenScope.includes(op) &&
        ruleIndex(wpc.allow, op, "allow") !== undefined &&
        ruleIndex(wpc.deny, op, "deny") === undefined),
  );
}

export function decide(wpc: WorkPolicyContract, req: DecisionRequest): Decision {
  const reasons: Reason[] = [];
  const constraints: Constraint[] = [];
  const block = (code: GovernanceCode, message: string, rule?: string): Decision => {
    const refusal = { code, message, ...(rule ? { rule } : {}) };
    return { effect: "BLOCK", reasons: [...reasons, refusal], constraints: [], refusal };
  };

  if (isGovernanceOp(req.op))
    return {
      effect: "ALLOW",
      reasons: [{ code: "governance_op", message: "governance tools are always available and read-only" }],
      constraints: [],
    };

  // Deny overrides everything, then the op must be allowed by the policy and carried in the token scope.
  const denied = ruleIndex(wpc.deny, req.op, "deny");
  if (denied) return block("op_denied", `${req.op} is denied by policy ${wpc.policy_name}`, denied);
  const allowed = ruleIndex(wpc.allow, req.op, "allow");
  if (!allowed) return block("op_not_allowed", `${req.op} is not in the allow-set of policy ${wpc.policy_name}`);
  if (!req.tokenScope.includes(req.op))
    return block("op_out_of_token_scope", `${req.op} is not in this job's token scope`);
  reasons.push({ code: "op_allowed", message: `${req.op} is allowed by policy and token scope`, rule: allowed });

  const c = effectiveConstraints(wpc, req.op);
  const inherited = KQL_CONSTRAINTS_OF[req.op];
  // A reason names the entry its value came from: the op's own, the op it inherits KQL bounds from, or "*". For a
  // merged minimum (max_rows, max_timespan) that is the entry holding the winning value.
  const layers = [req.op, ...(inherited ? [inherited] : []), "*"].filter((l) => wpc.constraints?.[l]);
  const valueAt = (layer: string, k: string): unknown =>
    k
      .split(".")
      .reduce<unknown>((o, part) => (o as Record<string, unknown> | undefined)?.[part], wpc.constraints?.[layer]);
  const cRule = (k: string, effective?: unknown) => {
    const defining = layers.filter((l) => valueAt(l, k) !== undefined);
    const winner = effective === undefined ? undefined : defining.find((l) => valueAt(l, k) === effective);
    return `constraints.${winner ?? defining[0] ?? req.op}.${k}`;
  };

  if (c.workspaces && !c.workspaces.includes(req.workspace)) {
    return block(
      "workspace_not_allowed",
      `workspace "${req.workspace}" is not allowed for ${req.op}`,
      cRule("workspaces"),
    );
  }
  if (req.tokenWorkspaces && !req.tokenWorkspaces.includes(req.workspace)) {
    return block("workspace_not_allowed", `workspace "${req.workspace}" is outside this job's token`);
  }
  if (c.tenants && (req.tenant === undefined || !c.tenants.includes(req.tenant))) {
    return block(
      "tenant_not_allowed",
      `workspace "${req.workspace}" is in tenant ${req.tenant ?? "(unknown)"}, not allowed for ${req.op}`,
      cRule("tenants"),
    );
  }
  if (req.tokenTenants && (req.tenant === undefined || !req.tokenTenants.includes(req.tenant))) {
    return block(
      "tenant_not_allowed",
      `workspace "${req.workspace}" is in tenant ${req.tenant ?? "(unknown)"}, outside this job's token`,
    );
  }

  if (req.usage && wpc.budgets) {
    const b = wpc.budgets;
    if (b.max_calls !== undefined && req.usage.calls >= b.max_calls)
      return block("budget_exceeded", `job used its ${b.max_calls} calls`, "budgets.max_calls");
    if (b.max_rows !== undefined && req.usage.rows >= b.max_rows)
      return block("budget_exceeded", `job read its ${b.max_rows} rows`, "budgets.max_rows");
    if (b.calls_per_minute !== undefined && req.usage.callsLastMinute >= b.calls_per_minute) {
      return block(
        "budget_exceeded",
        `job exceeded ${b.calls_per_minute} calls per minute`,
        "budgets.calls_per_minute",
      );
    }
    if (b.max_calls !== undefined && req.usage.calls >= 0.8 * b.max_calls) {
      reasons.push({
        code: "budget_near",
        message: `job has used ${req.usage.calls} of ${b.max_calls} calls`,
        rule: "budgets.max_calls",
      });
    }
  }

  if (req.kql) {
    const k = req.kql;
    const forbidden = c.kql?.forbidden ?? ALL_KQL_FORBIDDEN;
    // Constructs the policy did not list stay forbidden if they are not among the known, configurable kinds.
    const hit = k.forbidden.find(
      (f) => forbidden.includes(f.construct as never) || !ALL_KQL_FORBIDDEN.includes(f.construct),
    );
    if (hit) {
      const at = hit.line ? ` at line ${hit.line}, column ${hit.column}` : "";
      return block(
        "kql_forbidden_construct",
        `query uses forbidden construct "${hit.construct}"${at}`,
        cRule("kql.forbidden"),
      );
    }
    // Forbidden constructs first: the most specific reason, even when the query also fails to analyze.
    if (!k.ok)
      return block("kql_invalid", `query does not analyze cleanly: ${k.diagnostics.join("; ") || "unknown error"}`);
    if (c.kql?.allowed_tables) {
      const bad = k.tables.filter((t) => !c.kql!.allowed_tables!.includes(t));
      if (bad.length)
        return block(
          "kql_table_not_allowed",
          `query reads table(s) not allowed by policy: ${bad.join(", ")}`,
          cRule("kql.allowed_tables"),
        );
    }
    const lin = k.lineage;
    if (lin?.unknown) {
      const u = lin.unknown;
      return block(
        "kql_lineage_unknown",
        `query uses ${u.construct} at line ${u.line}, column ${u.column}: ${u.reason}; the policy redacts ${lin.redactedColumns.join(", ")} and the server cannot tell which output derives from them`,
        "redaction.columns",
      );
    }
    if (lin?.predicates.length && wpc.redaction?.column_predicates === "block") {
      return block(
        "kql_redacted_predicate",
        `query filters, sorts or joins on redacted data (${lin.predicates.join(", ")}); the policy forbids predicates on ${lin.redactedColumns.join(", ")}`,
        "redaction.column_predicates",
      );
    }
    const probeBudget = wpc.redaction?.max_predicate_queries;
    if (lin?.predicates.length && probeBudget !== undefined) {
      const used = req.usage?.redactedPredicateQueries ?? 0;
      if (used >= probeBudget)
        return block(
          "kql_redacted_predicate",
          `query filters, sorts or joins on redacted data (${lin.predicates.join(", ")}); this job has used its ${probeBudget} such queries`,
          "redaction.max_predicate_queries",
        );
    }
    if (lin?.masked.length) {
      constraints.push({
        kind: "column_redaction",
        columns: lin.masked,
        outputColumns: lin.outputColumns,
        redacted: lin.redactedColumns,
      });
      reasons.push({
        code: "column_redaction",
        message: `output column(s) ${lin.masked.join(", ")} derive from redacted ${lin.redactedColumns.join(", ")} and are masked`,
        rule: "redaction.columns",
      });
    }
    constraints.push({ kind: "query_timeout", seconds: c.kql?.max_query_seconds ?? DEFAULT_MAX_QUERY_SECONDS });
    if (c.kql?.max_timespan) {
      const max = c.kql.max_timespan;
      if (!k.requestedTimespan || isoDurationMs(k.requestedTimespan) > isoDurationMs(max)) {
        constraints.push({
          kind: "timespan",
          value: max,
          ...(k.requestedTimespan ? { requested: k.requestedTimespan } : {}),
        });
        reasons.push({
          code: "timespan_capped",
          message: `query time range bounded to ${max}`,
          rule: cRule("kql.max_timespan", max),
        });
      }
    }
  }

  if (c.max_rows !== undefined) {
    // Reads always carry the cap; it narrows the call (CONSTRAIN) only when the caller asked for more, or for a query.
    const narrows = req.kql !== undefined || (req.requestedRows !== undefined && req.requestedRows > c.max_rows);
    if (!req.write) {
      constraints.push({
        kind: "max_rows",
        value: c.max_rows,
        ...(req.requestedRows !== undefined ? { requested: req.requestedRows } : {}),
      });
      if (narrows)
        reasons.push({
          code: "row_cap",
          message: `results capped at ${c.max_rows} rows`,
          rule: cRule("max_rows", c.max_rows),
        });
    }
  }
  if (c.max_result_bytes !== undefined && !req.write)
    constraints.push({ kind: "max_result_bytes", value: c.max_result_bytes });
  if (wpc.redaction) {
    constraints.push({
      kind: "redaction",
      builtin: wpc.redaction.builtin ?? [],
      fields: wpc.redaction.fields ?? [],
      patterns: (wpc.redaction.patterns ?? []).map((p) => p.name),
    });
  }

  if (req.suspiciousContent?.length) {
    reasons.push({
      code: "suspicious_content",
      message: `untrusted content in this job matched injection patterns: ${req.suspiciousContent.join(", ")}`,
    });
  }

  const approvalRule = (wpc.approvals ?? []).find((a) => a.required_for.includes(req.op));
  const approval = approvalRule ? approvalRuleView(approvalRule) : undefined;

  const narrowing = reasons.some(
    (r) => r.code === "row_cap" || r.code === "timespan_capped" || r.code === "column_redaction",
  );
  const flagged = reasons.some((r) => r.code === "suspicious_content" || r.code === "budget_near");
  // LOG outranks CONSTRAIN: a flagged call must stand out to the SOC even when it was also narrowed.
  const effect: Effect = flagged ? "LOG" : narrowing ? "CONSTRAIN" : "ALLOW";
  return { effect, reasons, constraints, ...(approval ? { approval } : {}) };
}

/** Milliseconds in an ISO 8601 duration of days/hours/minutes/seconds (P7D, PT24H, P1DT12H). */
export function isoDurationMs(d: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(d);
  if (!m || d === "P" || d.endsWith("T")) throw new Error(`"${d}" is not an ISO 8601 duration like PT1H or P7D`);
  const [, days, hours, mins, secs] = m.map((x) => Number(x ?? 0));
  return (((days! * 24 + hours!) * 60 + mins!) * 60 + secs!) * 1000;
}
