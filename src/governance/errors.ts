/** Every way the governance path can refuse or fail; the same code goes into the receipt, the event and the CLI. */
export type GovernanceCode =
  | "home_missing"
  | "auth_missing"
  | "auth_invalid"
  | "auth_expired"
  | "auth_untrusted_issuer"
  | "auth_scope_hash_mismatch"
  | "auth_ttl_exceeds_policy"
  | "auth_policy_pin_mismatch"
  | "auth_policy_pin_missing"
  | "policy_missing"
  | "policy_invalid"
  | "policy_unsigned"
  | "policy_untrusted"
  | "policy_hash_mismatch"
  | "unknown_tool"
  | "invalid_arguments"
  | "op_denied"
  | "op_not_allowed"
  | "op_out_of_token_scope"
  | "workspace_not_allowed"
  /** The call names a workspace the registry does not hold. */
  | "workspace_unknown"
  /** The workspace's tenant is outside the policy's or the token's tenants, or another than the job's tenant. */
  | "tenant_not_allowed"
  | "kql_invalid"
  | "kql_forbidden_construct"
  | "kql_table_not_allowed"
  | "kql_lineage_unknown"
  | "kql_redacted_predicate"
  | "kql_read_outside_analysis"
  | "kql_query_timeout"
  | "kql_query_limit"
  | "approval_required"
  | "approval_invalid"
  | "job_paused"
  | "budget_exceeded"
  /** The HTTP transport's request rate for this token, job or client address is spent (429 + Retry-After). */
  | "rate_limited"
  /** The HTTP transport's session cap (per job, or server-wide) is reached. */
  | "session_limit"
  | "receipt_persist_failed"
  | "telemetry_failed"
  | "backend_error"
  /** A tool's result did not match its declared outputSchema: withheld (a defect, not the caller's fault). */
  | "tool_output_invalid"
  /** The client cancelled the call (MCP notifications/cancelled) before its result was sealed; a write only before it ran. */
  | "cancelled"
  | "internal_error";

/** A structured refusal: what is wrong (`message`) and what to do about it (`fix`). */
export class GovernanceError extends Error {
  override readonly name = "GovernanceError";
  constructor(
    readonly code: GovernanceCode,
    message: string,
    readonly fix?: string,
    readonly details?: Record<string, unknown>,
    /** The underlying error, kept for logs and debugging (never serialised into results or receipts). */
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): { code: GovernanceCode; message: string; fix?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.fix ? { fix: this.fix } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}
