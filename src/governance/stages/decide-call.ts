import { sha256Hex } from "../../crypto/jcs.js";
import type { CallFacts, ToolDef } from "../../tools/types.js";
import { toGovernanceError, withFix } from "../codes.js";
import { type Decision, type DecisionRequest, decide, type KqlFacts } from "../decide.js";
import { GovernanceError } from "../errors.js";
import type { JobRecord } from "../jobs.js";
import { type CallEnv, type Caller, refused, resolveWorkspace, type StageResult } from "./types.js";

export interface Decided {
  request: DecisionRequest;
  decision: Decision;
  /** The facts the decision was made on (resolved ones included); the handler runs exactly these. */
  facts: CallFacts;
  /** The registry workspace the call targets, and its tenant. */
  workspace: { name: string; tenant: string };
}

/**
 * Stage 3, decide: gather the facts of the call (from the arguments; for some tools from the workspace; for KQL from
 * the analyzer), then the pure `decide()`. A BLOCK becomes a refusal carrying the decision. `governance_explain`
 * answers with the same function, so a call and its explanation can never disagree.
 */
export async function decideCall(
  tool: ToolDef,
  args: Record<string, unknown>,
  caller: Caller,
  env: CallEnv,
  /** The job's record as the admit stage read it (saves a read on the hot path); read here when absent. */
  job?: JobRecord,
): Promise<StageResult<Decided>> {
  let gathered: { request: DecisionRequest; facts: CallFacts; workspace: { name: string; tenant: string } };
  try {
    gathered = await gatherFacts(tool, args, caller, env, job);
  } catch (e) {
    return refused(toGovernanceError(e, "internal_error"));
  }
  const { request, facts, workspace } = gathered;
  const decision = decide(caller.policy.wpc, request);
  if (decision.effect === "BLOCK") {
    const r = decision.refusal ?? {
      code: "internal_error" as const,
      message: "the policy blocked the call without saying why",
    };
    return refused(withFix(new GovernanceError(r.code, r.message)), { decision, request });
  }
  return { ok: true, request, decision, facts, workspace };
}

/** What the decision reads of the job: its usage record, its flags, its calls in the last minute. */
interface JobState {
  job: JobRecord | undefined;
  flags: string[];
  callsLastMinute: number;
}

async function gatherFacts(
  tool: ToolDef,
  args: Record<string, unknown>,
  caller: Caller,
  env: CallEnv,
  known?: JobRecord,
): Promise<{ request: DecisionRequest; facts: CallFacts; workspace: { name: string; tenant: string } }> {
  let facts: CallFacts = tool.facts ? tool.facts(args) : {};
  // The registry names every workspace a call may target: an unknown name is refused before anything else.
  const workspace = resolveWorkspace(env.deps, facts.workspace);
  // The job's usage and flags, read once for both requests below (one round trip each on a shared store).
  const { claims } = caller;
  const [job, flags, callsLastMinute] = await Promise.all([
    known ?? env.deps.jobs.get(claims.job),
    env.deps.jobs.flags(claims.job),
    env.deps.jobs.callsLastMinute(claims.job, env.now()),
  ]);
  const state: JobState = { job, flags, callsLastMinute };
  if (tool.resolveFacts) {
    // Facts that live in the workspace are looked up only for a call the policy and token already admit (op in
    // scope, workspace allowed, budget left): a refused caller learns nothing from Sentinel. Looked up once; the
    // handler runs exactly what was analysed (ctx.facts).
    const pre = await requestFrom(tool, facts, workspace, state, caller, env);
    if (decide(caller.policy.wpc, pre).effect === "BLOCK") return { request: pre, facts, workspace };
    // Opening the backend and resolving are one step: whichever fails, the refusal is a backend failure.
    let resolved: CallFacts;
    try {
      resolved = await tool.resolveFacts(args, { backend: await env.deps.backend(workspace.name) });
    } catch (e) {
      throw toGovernanceError(e, "backend_error");
    }
    facts = { ...facts, ...resolved };
  }
  return { request: await requestFrom(tool, facts, workspace, state, caller, env), facts, workspace };
}

/** Policy analysis of a query, with the policy's redacted columns so lineage is computed where they apply. */
export function analyzeForPolicy(query: string, caller: Caller, env: CallEnv): Promise<KqlFacts> {
  const redactedColumns = caller.policy.wpc.redaction?.columns;
  return env.deps.analyzeKql(query, redactedColumns ? { redactedColumns } : {});
}

async function requestFrom(
  tool: ToolDef,
  facts: CallFacts,
  workspace: { name: string; tenant: string },
  { job, flags, callsLastMinute }: JobState,
  caller: Caller,
  env: CallEnv,
): Promise<DecisionRequest> {
  const { claims } = caller;
  let kql: KqlFacts | undefined;
  if (facts.kql) {
    try {
      kql = await analyzeForPolicy(facts.kql.query, caller, env);
    } catch (e) {
      throw toGovernanceError(e, "kql_invalid");
    }
    if (facts.kql.timespan) kql = { ...kql, requestedTimespan: facts.kql.timespan };
    // A query that is not in the arguments is recorded with the decision, so a verifier sees what was analysed.
    if (facts.kql.source) {
      const q = facts.kql.query;
      const shown = env.redactor.redact({ q }).value as { q: string };
      kql = { ...kql, source: { ref: facts.kql.source, query: shown.q, query_sha256: `sha256:${sha256Hex(q)}` } };
    }
  }
  return {
    op: tool.op,
    write: !tool.effects.readOnly,
    tokenScope: claims.scope,
    ...(claims.workspaces ? { tokenWorkspaces: claims.workspaces } : {}),
    ...(claims.tenants ? { tokenTenants: claims.tenants } : {}),
    workspace: workspace.name,
    tenant: workspace.tenant,
    ...(facts.requestedRows !== undefined ? { requestedRows: facts.requestedRows } : {}),
    ...(kql ? { kql } : {}),
    ...(flags.length ? { suspiciousContent: flags } : {}),
    usage: {
      calls: job?.calls ?? 0,
      rows: job?.rows ?? 0,
      callsLastMinute,
      ...(kql?.lineage?.predicates.length ? { redactedPredicateQueries: job?.redacted_predicate_queries ?? 0 } : {}),
    },
  };
}
