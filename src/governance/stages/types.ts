import type { SigningKey } from "../../crypto/keys.js";
import type { ReceiptStore } from "../../receipts/store.js";
import type { WorkspaceRegistry } from "../../registry/workspaces.js";
import type { SentinelBackend } from "../../sentinel/backend.js";
import type { RollbackStateRows } from "../../state/contract.js";
import type { TelemetrySink } from "../../telemetry/sink.js";
import type { ToolDef } from "../../tools/types.js";
import type { CstClaims } from "../../types/cst.js";
import type { Approval, ApprovalStore } from "../approvals.js";
import type { Decision, DecisionRequest, KqlFacts } from "../decide.js";
import type { GovernanceError } from "../errors.js";
import type { JobStore } from "../jobs.js";
import type { VerifiedPolicy } from "../policy.js";
import type { Redactor } from "../redact.js";
import type { TrustStore } from "../trust.js";

// The governed call is a sequence of stages (src/governance/pipeline.ts reads them top to bottom). Each stage returns
// `Ok` with what the next one needs, or a `Refusal`; the pipeline seals every refusal into a receipt and events.

export type Ok<T> = { ok: true } & T;

export interface Refusal {
  ok: false;
  error: GovernanceError;
  /**
   * "error": the call was admitted and failed while running (backend, defect); "refused": governance said no;
   * "cancelled": the client cancelled it before its result was sealed (see ./cancel.ts).
   */
  status: "refused" | "error" | "cancelled";
  /** The decision to record; a BLOCK built from the error when absent. */
  decision?: Decision;
  /** What the decision was made on, recorded so a verifier can re-evaluate the refusal. */
  request?: DecisionRequest;
  approvalId?: string;
  /** The call's approval was not used by this call (another call consumed it): its receipt must not cite it. */
  withoutApproval?: true;
  /** Set when the refusal comes after a write's intent receipt (the outcome receipt names it). */
  intentReceiptId?: string;
  /** Set when the refusal is a stage of its own not writing a receipt (the receipt or telemetry could not be written). */
  unsealed?: true;
}

export type StageResult<T> = Ok<T> | Refusal;

export function refused(error: GovernanceError, extra: Partial<Omit<Refusal, "ok" | "error">> = {}): Refusal {
  return { ok: false, error, status: "refused", ...extra };
}

export function failed(error: GovernanceError, extra: Partial<Omit<Refusal, "ok" | "error">> = {}): Refusal {
  return { ok: false, error, status: "error", ...extra };
}

/** The authenticated caller: verified token claims and the verified policy they were checked against. */
export interface Caller {
  claims: CstClaims;
  policy: VerifiedPolicy;
}

export interface CallMeta {
  promptHash?: string;
  responseHash?: string;
  modelId?: string;
  /** Fires when the client cancels the call (MCP notifications/cancelled): see ./cancel.ts for what it stops. */
  signal?: AbortSignal;
  /** Told each phase of a long call (the MCP server turns it into rate-limited notifications/progress). */
  progress?: ProgressSink;
}

/** The phases a call reports while it runs; `detail` is one line for a person (never result data). */
export type ProgressPhase = "analysing" | "waiting for approval" | "running" | "rows";
export type ProgressSink = (phase: ProgressPhase, detail?: string) => void;

/** Telemetry writes that failed under a fail-open policy, shared by every session of the server. */
export interface TelemetryHealth {
  failures: number;
  lastError?: string;
}

/** Everything the governor needs, injected so tests and the CLI can build it from any GSMCP_HOME. */
export interface GovernorDeps {
  serverId: string;
  audience: string;
  tenantId: string;
  trust: TrustStore;
  /** The verified policy, or the error that made it unusable (every call is then refused). */
  policy: VerifiedPolicy | GovernanceError;
  /** The raw CST for this session (stdio: from GSMCP_CST; HTTP: the bearer token). */
  token: string;
  receipts: ReceiptStore;
  telemetry: TelemetrySink;
  jobs: JobStore;
  approvals: ApprovalStore;
  /**
   * Signs approvals the user gave in the MCP client (elicitation). Its own key, trusted only as a client-assertion
   * signer: such approvals prove that the agent's host said yes, not who did (see docs/policies.md, approvals).
   */
  clientAssertionSigner?: SigningKey;
  /** The backend of a registry workspace (the default one when none is named). */
  backend: (workspace?: string) => Promise<SentinelBackend>;
  /** The workspace registry; absent: one workspace, `workspaceName` in tenant `tenantId`. */
  registry?: WorkspaceRegistry;
  /** Analyzes a KQL query for policy (tables, forbidden constructs, lineage of redacted columns). */
  analyzeKql: (query: string, options?: { redactedColumns?: string[] }) => Promise<KqlFacts>;
  /** Default workspace name when a call names none. */
  workspaceName: string;
  now?: () => number;
  /** Telemetry writes that failed under a fail-open policy, shared by every session of the server. */
  telemetryHealth?: TelemetryHealth;
  /** Real arguments and prior state of writes, for rollback (receipts keep only the redacted forms). */
  rollbackState?: RollbackStateRows;
  /**
   * Told once when a call creates a NEW pending approval (the call is refused with approval_required), not when a call
   * finds its pending approval again. Fire-and-forget: it must not block, and whatever it throws is ignored — the call's
   * outcome never depends on a notification (`gsmcp serve` sends the approval_required webhook from it).
   */
  notifyApproval?: (a: Approval) => void;
}

/** What every stage may use: the dependencies, the clock and the policy's redactor. */
export interface CallEnv {
  deps: GovernorDeps;
  now(): number;
  redactor: Redactor;
}

/** One call as it is sealed into its receipt: filled in as the stages run. */
export interface CallRecord {
  op: string;
  tool: string;
  args: Record<string, unknown>;
  meta: CallMeta;
  started: number;
  caller?: Caller;
  decision?: Decision;
  request?: DecisionRequest;
  approvalId?: string;
  /** The registry workspace the call targets, and its tenant (resolved in the decide stage). */
  workspace?: { name: string; tenant: string };
  /** The call took its slot in the job's call budgets (reserve stage): its receipt counts rows, not the call again. */
  reservedCall?: boolean;
  /** Whether the approval was asserted by the MCP client (elicitation) rather than signed by an approver. */
  approvalClientAsserted?: boolean;
  /** The signed-in person who approved (tid:oid or issuer#sub) and the change ticket of the approval. */
  approvedBy?: string;
  changeTicket?: string;
  phase?: "intent" | "outcome" | "single";
  intentReceiptId?: string;
  rollback?: { posture: ToolDef["rollback"]["posture"]; description: string; prior_state?: unknown };
  status?: "ok" | "refused" | "error" | "pending" | "cancelled";
  error?: GovernanceError;
  output?: Record<string, unknown>;
  text?: string;
  appliedConstraints?: Record<string, unknown>[];
  injections?: string[];
}

export interface ToolCallResult {
  content: { type: "text"; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  [key: string]: unknown;
}

/** The workspace a call names (or the default), with its tenant; an unknown name throws workspace_unknown. */
export function resolveWorkspace(deps: GovernorDeps, name?: string): { name: string; tenant: string } {
  if (deps.registry) {
    const e = deps.registry.resolve(name);
    return { name: e.name, tenant: e.tenant };
  }
  return { name: name ?? deps.workspaceName, tenant: deps.tenantId };
}
