import { randomUUID } from "node:crypto";
import { decodeJwt } from "jose";
import { jcsHash } from "../../crypto/jcs.js";
import type { Decision } from "../decide.js";
import { GovernanceError } from "../errors.js";
import type { CallEnv, CallRecord } from "./types.js";

/** The BLOCK decision a refusal records when no policy decision was made (authentication, schema, job state). */
export function blockDecision(err: GovernanceError): Decision {
  const refusal = { code: err.code, message: err.message };
  return { effect: "BLOCK", reasons: [refusal], constraints: [], refusal };
}

/** The decision a record carries: its own, or a BLOCK from its error. */
export function recordDecision(r: CallRecord): Decision {
  return r.decision ?? blockDecision(r.error ?? new GovernanceError("internal_error", "call failed"));
}

/** The receipt body for a call or one phase of a write (before the store chains and signs it). */
export function draftReceipt(r: CallRecord, env: CallEnv) {
  const { deps, redactor } = env;
  const claims = r.caller?.claims;
  const policyHash = r.caller?.policy.hash ?? (deps.policy instanceof GovernanceError ? "-" : deps.policy.hash);
  const unverified = claims ? undefined : peekToken(deps.token);
  const decision = recordDecision(r);
  return {
    receipt_id: randomUUID(),
    time: new Date(env.now()).toISOString(),
    server_id: deps.serverId,
    job: claims?.job ?? "-",
    agent: claims?.sub ?? unverified?.sub ?? "unknown",
    cst_jti: claims?.jti ?? "-",
    policy_hash: policyHash,
    op: r.op,
    tool: r.tool,
    args_hash: jcsHash(r.args),
    args_redacted: redactor.redact(r.args).value,
    decision: { effect: decision.effect, reasons: decision.reasons },
    constraints_applied: r.appliedConstraints ?? decision.constraints.map((c) => ({ ...c })),
    ...(r.request ? { decision_input: r.request as unknown as Record<string, unknown> } : {}),
    ...(r.workspace ? { workspace: r.workspace.name, tenant: r.workspace.tenant } : {}),
    ...(r.approvalId ? { approval_id: r.approvalId } : {}),
    ...(r.approvalId && r.approvalClientAsserted ? { approval_client_asserted: true } : {}),
    ...(r.approvalId && r.approvedBy ? { approved_by: r.approvedBy } : {}),
    ...(r.approvalId && r.changeTicket ? { change_ticket: r.changeTicket } : {}),
    phase: r.phase ?? ("single" as const),
    ...(r.intentReceiptId ? { intent_receipt_id: r.intentReceiptId } : {}),
    outcome: {
      status: r.status ?? "error",
      ...(r.output ? { result_hash: jcsHash(r.output), rows: countRows(r.output) } : {}),
      ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
    },
    ...(r.rollback ? { rollback: r.rollback } : {}),
    event_id: randomUUID(),
  };
}

export type ReceiptDraft = ReturnType<typeof draftReceipt>;

/**
 * Rows a result hands the agent, for row budgets: a query's rows, else every listed record of any kind, where a
 * record that is itself a table (an entity insight) counts its rows.
 */
export function countRows(output: Record<string, unknown>): number {
  if (Array.isArray(output.rows)) return output.rows.length;
  const lists = Object.values(output).filter(Array.isArray) as unknown[][];
  if (lists.length) return lists.flat().reduce<number>((n, x) => n + nestedRows(x), 0);
  return output.incident ? 1 : 0;
}

function nestedRows(record: unknown): number {
  const rows = (record as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? rows.length : 1;
}

/** Reads claims without verifying, only to label refusals (never to authorize). */
function peekToken(token: string): { sub?: string } | undefined {
  try {
    const c = decodeJwt(token);
    return typeof c.sub === "string" ? { sub: `unverified:${c.sub.slice(0, 64)}` } : undefined;
  } catch {
    return undefined;
  }
}
