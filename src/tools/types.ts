import type { z } from "zod";
import type { Decision, KqlFacts } from "../governance/decide.js";
import { GovernanceError } from "../governance/errors.js";
import type { ProgressSink } from "../governance/stages/types.js";
import type { SentinelBackend } from "../sentinel/backend.js";

export interface ToolEffects {
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
  openWorld: boolean;
}

export type RollbackPosture = "none" | "revert" | "supersede" | "disable-restore" | "delete";

/** Facts a tool tells the decision engine about one call, derived from its (validated) arguments. */
export interface CallFacts {
  requestedRows?: number;
  workspace?: string;
  /** `source`: where the query text came from when it is not in the arguments (e.g. "savedSearch:<id>"). */
  kql?: { query: string; timespan?: string; source?: string };
}

/** What `resolveFacts` gets. It runs only after the token is authenticated and the op is within the job's scope. */
export interface ResolveContext {
  backend: SentinelBackend;
}

/** What a handler gets: the backend, and the constraints the decision put on this call. */
export interface ToolContext<P = unknown> {
  backend: SentinelBackend;
  decision: Decision;
  /** Row cap from the decision (undefined: no cap). */
  maxRows?: number;
  /** Time bound (ISO 8601 duration) from the decision, for KQL. */
  timespan?: string;
  /** The facts the decision was computed from (resolved ones included); `run` uses these, never a second lookup. */
  facts?: CallFacts;
  /** KQL: what the analyzer found (tables, stored functions, lineage); the result is checked against it. */
  kql?: KqlFacts;
  /** Writes: the state captured before the call (what `capture` returned), recorded for rollback. */
  prior?: P;
  /** Governance-only context for governance tools. */
  governance?: GovernanceView;
  /** The benchmarks' ungoverned baseline: no decision was made, so there is nothing to check results against. */
  ungoverned?: true;
  /** Reads only: fires when the client cancels the call; pass it to the backend so its work stops. */
  signal?: AbortSignal;
  /** Reports the handler's phases (e.g. rows received) to a client that asked for progress. */
  progress?: ProgressSink;
}

/** Read-only view of the caller's governance state, for governance_* tools. */
export interface GovernanceView {
  job: string;
  agent: string;
  policyName: string;
  policyHash: string;
  scope: string[];
  tokenExpiresAt: string;
  /** Telemetry writes that failed so far under a fail-open policy (this server). */
  telemetryFailures: number;
  /** The registry workspaces this job may reach (policy and token pins); others are not shown. */
  workspaces: { name: string; tenant: string; default: boolean }[];
  explain(
    op: string,
    args: Record<string, unknown>,
  ): Promise<{ tool?: string; decision: Decision; approval_required: boolean }>;
  /** Tables kql.query may read under the policy (undefined: no table restriction). */
  kqlAllowedTables(): string[] | undefined;
  /** Analyses a query for policy without running it. */
  analyzeKql(query: string): Promise<{
    ok: boolean;
    diagnostics: string[];
    tables: string[];
    forbidden: { construct: string; line?: number; column?: number }[];
    lineage?: { masked: string[]; predicates: string[] };
  }>;
}

/**
 * What a tool needs in Azure RBAC, as operation names from src/rbac/operations.ts (a test fails on a name that is not
 * there). `gsmcp policy role` builds a policy's custom role from these, and the permission check compares an identity
 * with them.
 */
export interface ToolRbac {
  /** The least built-in role that covers the tool, for teams that assign built-in roles. */
  role: string;
  /** Every control-plane operation its calls need, reads before writes included. Empty: nothing is sent to Azure. */
  actions: string[];
  /** Data-plane operations. */
  dataActions?: string[];
  /** Operations only its rollback needs beyond `actions` (deleting what a create made). */
  rollback?: string[];
  /** KQL: also read access to the tables the policy lets it query (query/<table>/read; all tables when unbounded). */
  tables?: "policy";
  /** Why, when the operations do not say it (e.g. nothing is sent to Azure). */
  note?: string;
}

/**
 * One declaration per tool: everything a reviewer, the manifest and the pipeline need. `I` and `O` are the zod
 * schemas of arguments and result (the result is checked against `O` before it leaves); `P` is the state `capture`
 * records before a write and `revert` restores. Handlers are methods, so any ToolDef<I, O, P> is a ToolDef (the
 * registry holds them without casts); the pipeline calls them only with arguments that passed `input`.
 */
export interface ToolDef<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject, P = unknown> {
  op: string;
  title: string;
  description: string;
  input: I;
  output: O;
  effects: ToolEffects;
  rbac: ToolRbac;
  approvalDefault: "none" | "required";
  rollback: { posture: RollbackPosture; description: string };
  facts?(args: z.infer<I>): CallFacts;
  /**
   * Facts that live in Sentinel (e.g. a saved query's text), looked up once before deciding; they override `facts`.
   * The decision is made on exactly what this returns, and `run` receives it as `ctx.facts` (no second fetch).
   */
  resolveFacts?(args: z.infer<I>, ctx: ResolveContext): Promise<CallFacts>;
  /** Writes: reads the state the call will change, recorded in the intent receipt for rollback. */
  capture?(args: z.infer<I>, ctx: ToolContext): Promise<P>;
  run(args: z.infer<I>, ctx: ToolContext<P>): Promise<z.infer<O>>;
  /** Restores the state `capture` recorded (for postures revert / disable-restore / supersede / delete). */
  revert?(args: z.infer<I>, prior: P, ctx: ToolContext): Promise<Record<string, unknown>>;
}

/** A write's captured state in `run`; the pipeline captures it before every write, so its absence is a defect. */
export function priorOf<P>(ctx: ToolContext<P>): P {
  if (ctx.prior === undefined)
    throw new GovernanceError("internal_error", "the write's prior state was not captured; nothing was changed");
  return ctx.prior;
}

/** MCP tool name for an op id: sentinel_<group>_<verb>, governance ops as governance_<verb>. */
export function toolNameFor(op: string): string {
  return op.startsWith("governance.") ? op.replaceAll(".", "_") : `sentinel_${op.replaceAll(".", "_")}`;
}

/** Declares a tool with its types inferred from the zod schemas and from what `capture` returns. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject, P = unknown>(
  def: ToolDef<I, O, P>,
): ToolDef<I, O, P> {
  return def;
}

export const READ_EFFECTS: ToolEffects = { readOnly: true, destructive: false, idempotent: true, openWorld: true };
