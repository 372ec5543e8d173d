import { StoreUnavailable } from "../state/contract.js";
import { KNOWN_OPS, toolByName, toolByOp } from "../tools/registry.js";
import { type GovernanceView, toolNameFor } from "../tools/types.js";
import type { CstClaims } from "../types/cst.js";
import { effectiveConstraints, effectiveScope } from "./decide.js";
import { GovernanceError } from "./errors.js";
import { Redactor } from "./redact.js";
import { admit } from "./stages/admit.js";
import { approvalGate, type Elicitor } from "./stages/approval-gate.js";
import { SessionAuth } from "./stages/authenticate.js";
import { cancelledAt } from "./stages/cancel.js";
import { analyzeForPolicy, decideCall } from "./stages/decide-call.js";
import { CallTelemetry } from "./stages/emit.js";
import { execute } from "./stages/execute.js";
import { finishCall, withRefusal } from "./stages/finish.js";
import { blockDecision } from "./stages/receipt-draft.js";
import { reserveCall } from "./stages/reserve.js";
import { errorResult } from "./stages/result.js";
import { sealOutput } from "./stages/seal.js";
import type { CallEnv, Caller, CallMeta, CallRecord, GovernorDeps, Refusal, ToolCallResult } from "./stages/types.js";

export type {
  CallMeta,
  GovernorDeps,
  ProgressPhase,
  ProgressSink,
  TelemetryHealth,
  ToolCallResult,
} from "./stages/types.js";

/**
 * The governed call: authenticate → admit → decide → reserve → approval gate → execute → seal → emit. Each stage is its
 * own module (src/governance/stages/) returning Ok or a Refusal; every refusal is sealed into a receipt and events like
 * a result. A cancellation (meta.signal) is checked at each boundary and seals the call as `cancelled` (a read: until
 * its result is sealed; a write: until execute begins — see stages/cancel.ts). One Governor per session (its token);
 * stores, backend and telemetry are shared by the server's sessions.
 */
export class Governor {
  readonly env: CallEnv;
  readonly telemetry: CallTelemetry;
  private readonly auth: SessionAuth;
  private readonly seenTokens = new Set<string>();
  private elicit?: Elicitor;

  constructor(readonly deps: GovernorDeps) {
    const now = deps.now ?? Date.now;
    const wpc = deps.policy instanceof GovernanceError ? undefined : deps.policy.wpc;
    this.env = { deps, now, redactor: new Redactor(wpc?.redaction) };
    this.auth = new SessionAuth({ trust: deps.trust, audience: deps.audience, policy: deps.policy, now }, deps.token);
    this.telemetry = new CallTelemetry(deps, deps.telemetryHealth ?? { failures: 0 });
  }

  /** Set by the MCP server when the client supports elicitation (client-asserted approvals). */
  setElicitor(fn: Elicitor): void {
    this.elicit = fn;
  }

  /** HTTP: a session may present a refreshed token for the same job. */
  setToken(token: string): void {
    this.auth.setToken(token);
    this.deps.token = token;
  }

  /** The authenticated caller, or the GovernanceError a call would be refused with (resources, prompts, HTTP). */
  caller(): Promise<Caller> {
    return this.auth.caller();
  }

  /** Verifies the session's token now; throws the GovernanceError that a call would be refused with. */
  async verifyCaller(): Promise<CstClaims> {
    return (await this.auth.caller()).claims;
  }

  /** tools/list: what the effective scope allows (governance tools always). An unauthenticated session sees only those. */
  async listOps(): Promise<string[]> {
    try {
      const { claims, policy } = await this.auth.caller();
      return effectiveScope(policy.wpc, claims.scope, KNOWN_OPS);
    } catch {
      // Listing never fails; calls will explain the authentication problem with a receipt.
      return KNOWN_OPS.filter((op) => op.startsWith("governance."));
    }
  }

  async call(name: string, rawArgs: unknown, meta: CallMeta = {}): Promise<ToolCallResult> {
    try {
      return await this.governedCall(name, rawArgs, meta);
    } catch (e) {
      // Anything unexpected on the governance path (e.g. the state store cannot be written) refuses the call.
      const sqlite = e instanceof StoreUnavailable || (e as { code?: string }).code?.startsWith("SQLITE_");
      return errorResult(
        new GovernanceError(
          sqlite ? "receipt_persist_failed" : "internal_error",
          `${sqlite ? "state store could not be written" : "governance failed"}: ${(e as Error).message}; nothing was returned or executed`,
          sqlite ? "check the state store (GSMCP_HOME disk space and permissions, or GSMCP_STORE's server)" : undefined,
          undefined,
          { cause: e },
        ),
      );
    }
  }

  private async governedCall(name: string, rawArgs: unknown, meta: CallMeta): Promise<ToolCallResult> {
    const args = (rawArgs ?? {}) as Record<string, unknown>;
    const { signal, progress } = meta;
    const record: CallRecord = { op: opFor(name), tool: name, args, meta, started: performance.now() };

    const auth = await this.auth.authenticate();
    if (!auth.ok) return this.refuse(record, auth);
    const caller = auth.caller;
    record.caller = caller;
    const beforeAdmit = cancelledAt(signal, "before admission");
    if (beforeAdmit) return this.refuse(record, beforeAdmit);

    const admitted = await admit(name, args, caller, {
      jobs: this.deps.jobs,
      now: this.env.now,
      recordToken: (c) => this.recordTokenOnce(c.claims),
    });
    if (!admitted.ok) return this.refuse(record, admitted);
    const { tool } = admitted;
    const beforeDecide = cancelledAt(signal, "before the decision");
    if (beforeDecide) return this.refuse(record, beforeDecide);

    progress?.("analysing");
    const decided = await decideCall(tool, admitted.args, caller, this.env, admitted.job);
    if (!decided.ok) return this.refuse(record, decided);
    const { decision, request, facts, workspace } = decided;
    Object.assign(record, { decision, request, workspace });
    const afterDecide = cancelledAt(signal, "after the decision");
    if (afterDecide) return this.refuse(record, afterDecide);

    const reserved = await reserveCall(caller, request, this.env);
    if (!reserved.ok) return this.refuse(record, reserved);
    record.reservedCall = true;
    // From here the receipt carries the decision and counts the reserved slot, whatever stops the call.
    const beforeGate = cancelledAt(signal, "before the approval gate");
    if (beforeGate) return this.refuse(record, beforeGate);

    const gate = await approvalGate(
      caller,
      tool.op,
      admitted.args,
      decision,
      this.env,
      this.elicit,
      (e) => this.telemetry.publish(e),
      { ...(signal ? { signal } : {}), ...(progress ? { progress } : {}) },
    );
    // A cancelled approval wait keeps the decision as made: the policy did not block it, the client stopped asking.
    if (!gate.ok)
      return this.refuse(
        record,
        gate.status === "cancelled" ? gate : { ...gate, decision: { ...decision, effect: "BLOCK" } },
      );
    if (gate.approvalId)
      Object.assign(record, {
        approvalId: gate.approvalId,
        approvalClientAsserted: gate.clientAsserted,
        approvedBy: gate.approvedBy,
        changeTicket: gate.changeTicket,
      });

    // The last moment a write can be cancelled: once execute begins it runs to its outcome receipt.
    const beforeExecute = cancelledAt(signal, "before execution");
    if (beforeExecute) return this.refuse(record, beforeExecute);

    progress?.(
      "running",
      tool.effects.readOnly ? undefined : "the write is being sent to Sentinel; it can no longer be cancelled",
    );
    const executed = await execute(
      {
        tool,
        args: admitted.args,
        caller,
        decision,
        request,
        facts,
        record,
        governance: this.governanceView(caller),
        ...(signal ? { signal } : {}),
        ...(progress ? { progress } : {}),
      },
      this.env,
    );
    if (!executed.ok) return this.refuse(record, executed);
    if (executed.intent) Object.assign(record, { phase: "outcome", intentReceiptId: executed.intent.receipt_id });
    // A read whose client left while it finished: nothing is returned, so nothing is counted as handed over.
    const afterRead = tool.effects.readOnly ? cancelledAt(signal, "after running") : undefined;
    if (afterRead) return this.refuse(record, afterRead);

    const sealed = sealOutput(tool, executed.output, decision, this.env);
    if (!sealed.ok) return this.refuse(record, sealed);
    const { output, text, appliedConstraints, injections } = sealed;
    return finishCall(
      { ...record, status: "ok", output, text, appliedConstraints, injections },
      this.env,
      this.telemetry,
    );
  }

  /** Seals a refusal from any stage into its receipt and events (unless the stage could not write them itself). */
  refuse(record: CallRecord, r: Refusal): Promise<ToolCallResult> {
    if (r.unsealed) return Promise.resolve(errorResult(r.error));
    return finishCall(withRefusal(record, r), this.env, this.telemetry);
  }

  /** Records a refusal that happened before any tool call (e.g. an HTTP request with a bad token or a foreign session). */
  async refuseRequest(err: GovernanceError, what: string): Promise<void> {
    const caller = await this.auth.caller().catch(() => undefined);
    this.refuse(
      {
        op: "transport.request",
        tool: what,
        args: {},
        meta: {},
        started: performance.now(),
        ...(caller ? { caller } : {}),
      },
      { ok: false, error: err, status: "refused", decision: blockDecision(err) },
    );
  }

  private async recordTokenOnce(claims: CstClaims): Promise<void> {
    if (this.seenTokens.has(claims.jti)) return;
    await this.deps.jobs.recordToken(claims.jti, claims.job, this.auth.token, claims.exp, new Date(this.env.now()));
    this.seenTokens.add(claims.jti);
  }

  /** What governance_whoami and governance_explain read: the caller's own governance state, decided as a call would be. */
  private governanceView(caller: Caller): GovernanceView {
    const { claims, policy } = caller;
    return {
      job: claims.job,
      agent: claims.sub,
      policyName: policy.wpc.policy_name,
      policyHash: policy.hash,
      scope: effectiveScope(policy.wpc, claims.scope, KNOWN_OPS),
      tokenExpiresAt: new Date(claims.exp * 1000).toISOString(),
      telemetryFailures: this.telemetry.health.failures,
      workspaces: reachableWorkspaces(this.deps, caller),
      kqlAllowedTables: () => effectiveConstraints(policy.wpc, "kql.query").kql?.allowed_tables,
      analyzeKql: (query) => analyzeForPolicy(query, caller, this.env),
      explain: async (op, args) => {
        const t = toolByOp(op);
        if (!t) {
          const err = new GovernanceError("unknown_tool", `no operation "${op}" in this server`);
          return { decision: blockDecision(err), approval_required: false };
        }
        const parsed = t.input.safeParse(args);
        const decided = await decideCall(
          t,
          parsed.success ? (parsed.data as Record<string, unknown>) : {},
          caller,
          this.env,
        );
        if (!decided.ok)
          return {
            tool: toolNameFor(op),
            decision: decided.decision ?? blockDecision(decided.error),
            approval_required: false,
          };
        return {
          tool: toolNameFor(op),
          decision: decided.decision,
          approval_required: !!decided.decision.approval,
        };
      },
    };
  }
}

/** The op a tool name stands for, also for names that are not tools (so a refusal's receipt names what was asked). */
function opFor(name: string): string {
  const tool = toolByName(name);
  if (tool) return tool.op;
  return typeof name === "string" && name.startsWith("sentinel_")
    ? name.slice("sentinel_".length).replaceAll("_", ".")
    : String(name);
}

/**
 * The registry workspaces a job may reach: those its token pins (workspaces, tenants) and the policy's constraints for
 * every op ("*": workspaces, tenants) allow. Discovery shows only these; a call naming another is refused anyway.
 */
function reachableWorkspaces(deps: GovernorDeps, caller: Caller): { name: string; tenant: string; default: boolean }[] {
  const all = deps.registry?.entries ?? [{ name: deps.workspaceName, tenant: deps.tenantId, default: true }];
  const def = deps.registry?.defaultEntry.name ?? deps.workspaceName;
  const c = caller.policy.wpc.constraints?.["*"];
  const { claims } = caller;
  return all
    .filter(
      (e) =>
        (!claims.workspaces || claims.workspaces.includes(e.name)) &&
        (!claims.tenants || claims.tenants.includes(e.tenant)) &&
        (!c?.workspaces || c.workspaces.includes(e.name)) &&
        (!c?.tenants || c.tenants.includes(e.tenant)),
    )
    .map((e) => ({ name: e.name, tenant: e.tenant, default: e.name === def }));
}
