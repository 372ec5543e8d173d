import { BackendError } from "../sentinel/errors.js";
import { type GovernanceCode, GovernanceError } from "./errors.js";

/**
 * One row per refusal code: how it reaches the SOC (telemetry ErrorCode, HTTP-like; Severity), the MCP client (a tool
 * result, or a protocol error for what the client addressed wrongly) and the agent (the fix). The code itself is what
 * the receipt, the event's ToolResult, the MCP error and the CLI's "gsmcp: <code>: …" line all carry.
 * A `Record` over the closed union, so the compiler rejects a code without its row.
 */
export interface CodeRow {
  /** AgentSecurityEvent.ErrorCode. */
  errorCode: number;
  /** AgentSecurityEvent.Severity when a call is refused with this code. */
  severity: 1 | 2 | 3 | 4;
  /** `protocol`: answered as a JSON-RPC error (InvalidParams) instead of a tool result with isError. */
  mcp: "tool_result" | "protocol";
  /** What the agent or operator can do, when the refusal does not say it itself. */
  fix?: string;
}

const AUTH: CodeRow = { errorCode: 401, severity: 3, mcp: "tool_result" };
const POLICY: CodeRow = { errorCode: 412, severity: 3, mcp: "tool_result" };
const DENIED: CodeRow = { errorCode: 403, severity: 3, mcp: "tool_result" };
const KQL_FIX = "rewrite the query against the allowed tables without cross-workspace or external access";
const OP_FIX =
  "this policy does not permit the operation; use governance_explain, or run under a policy that allows it";

export const CODES: Record<GovernanceCode, CodeRow> = {
  home_missing: { errorCode: 500, severity: 3, mcp: "tool_result" },
  auth_missing: AUTH,
  auth_invalid: AUTH,
  auth_expired: AUTH,
  auth_untrusted_issuer: AUTH,
  auth_scope_hash_mismatch: AUTH,
  auth_ttl_exceeds_policy: AUTH,
  auth_policy_pin_mismatch: AUTH,
  auth_policy_pin_missing: AUTH,
  policy_missing: POLICY,
  policy_invalid: POLICY,
  policy_unsigned: POLICY,
  policy_untrusted: POLICY,
  policy_hash_mismatch: POLICY,
  unknown_tool: { errorCode: 404, severity: 3, mcp: "protocol" },
  invalid_arguments: { errorCode: 400, severity: 2, mcp: "tool_result" },
  op_denied: { ...DENIED, fix: OP_FIX },
  op_not_allowed: { ...DENIED, fix: OP_FIX },
  op_out_of_token_scope: { ...DENIED, fix: "issue a token whose --ops include this operation" },
  workspace_not_allowed: DENIED,
  workspace_unknown: {
    errorCode: 404,
    severity: 2,
    mcp: "tool_result",
    fix: "name a workspace from the registry (gsmcp workspace list), or omit workspace for the default",
  },
  tenant_not_allowed: {
    ...DENIED,
    fix: "a job works in one tenant: start a job (token) for the other tenant, scoped with --tenants",
  },
  kql_invalid: { errorCode: 400, severity: 2, mcp: "tool_result" },
  kql_forbidden_construct: { ...DENIED, fix: KQL_FIX },
  kql_table_not_allowed: { ...DENIED, fix: KQL_FIX },
  kql_lineage_unknown: {
    ...DENIED,
    fix: "project the columns you need by name instead of unpacking, packing or plugin output (see docs/policies.md, column redaction)",
  },
  kql_redacted_predicate: {
    ...DENIED,
    fix: "remove where/sort/join conditions on the redacted columns, or run under a policy whose redaction.column_predicates is allow",
  },
  kql_read_outside_analysis: { errorCode: 500, severity: 4, mcp: "tool_result" },
  kql_query_timeout: { errorCode: 504, severity: 2, mcp: "tool_result" },
  kql_query_limit: { errorCode: 413, severity: 2, mcp: "tool_result" },
  approval_required: { errorCode: 428, severity: 2, mcp: "tool_result" },
  approval_invalid: { errorCode: 403, severity: 3, mcp: "tool_result" },
  job_paused: { errorCode: 423, severity: 3, mcp: "tool_result" },
  budget_exceeded: {
    errorCode: 429,
    severity: 3,
    mcp: "tool_result",
    fix: "the job's budget is spent; start a new job or ask an operator",
  },
  rate_limited: {
    errorCode: 429,
    severity: 2,
    mcp: "tool_result",
    fix: "slow down and retry after the Retry-After interval",
  },
  session_limit: {
    errorCode: 429,
    severity: 2,
    mcp: "tool_result",
    fix: "close sessions you no longer use, or reuse one",
  },
  receipt_persist_failed: { errorCode: 507, severity: 4, mcp: "tool_result" },
  telemetry_failed: { errorCode: 507, severity: 4, mcp: "tool_result" },
  backend_error: { errorCode: 502, severity: 2, mcp: "tool_result" },
  tool_output_invalid: { errorCode: 500, severity: 4, mcp: "tool_result" },
  cancelled: { errorCode: 499, severity: 1, mcp: "tool_result" },
  internal_error: { errorCode: 500, severity: 3, mcp: "tool_result" },
};

/** A refusal with the table's fix when the error brings none. */
export function withFix(err: GovernanceError): GovernanceError {
  const fix = CODES[err.code].fix;
  if (err.fix || !fix) return err;
  return new GovernanceError(err.code, err.message, fix, err.details, { cause: err.cause });
}

const BACKEND_CODES = {
  timeout: "kql_query_timeout",
  limit: "kql_query_limit",
  not_found: "backend_error",
  cancelled: "cancelled",
  failed: "backend_error",
} as const satisfies Record<BackendError["failure"], GovernanceCode>;

/**
 * Any error on the governance path as a refusal. Governance errors stay as they are; a backend failure gets its code
 * from the table above; anything else gets `fallback`. The original error is kept as the cause.
 */
export function toGovernanceError(e: unknown, fallback: GovernanceCode = "internal_error"): GovernanceError {
  if (e instanceof GovernanceError) return e;
  if (e instanceof BackendError)
    return new GovernanceError(
      BACKEND_CODES[e.failure],
      e.message,
      e.extra.fix,
      { ...(e.status !== undefined ? { status: e.status } : {}), ...e.extra.details },
      { cause: e },
    );
  const message = e instanceof Error ? e.message : String(e);
  return new GovernanceError(fallback, message, undefined, undefined, { cause: e });
}
