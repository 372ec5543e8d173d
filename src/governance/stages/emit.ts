import { randomUUID } from "node:crypto";
import { AnomalyDetector } from "../../telemetry/anomaly.js";
import type { AgentSecurityEvent, TelemetrySink } from "../../telemetry/sink.js";
import type { WorkPolicyContract } from "../../types/wpc.js";
import { CODES } from "../codes.js";
import type { Decision } from "../decide.js";
import { GovernanceError } from "../errors.js";
import type { JobStore } from "../jobs.js";
import type { VerifiedPolicy } from "../policy.js";
import type { ReceiptDraft } from "./receipt-draft.js";
import { type CallRecord, failed, type StageResult, type TelemetryHealth } from "./types.js";

export interface EmitDeps {
  telemetry: TelemetrySink;
  jobs: JobStore;
  tenantId: string;
  workspaceName: string;
  policy: VerifiedPolicy | GovernanceError;
}

/**
 * Stage 7, emit: the AgentSecurityEvents of a sealed call (PolicyEvaluation, ToolInvocation, AuthFailure, Anomaly) to
 * the SOC's sinks, and the local anomaly response. A fail-closed policy refuses the call when events cannot be written;
 * a fail-open one goes on, but counts and logs every failure (shown in governance_whoami).
 */
export class CallTelemetry {
  private readonly anomalyConfig?: NonNullable<WorkPolicyContract["telemetry"]>["anomaly"];
  private readonly anomalies?: AnomalyDetector;
  private readonly failClosed: boolean;

  constructor(
    private readonly deps: EmitDeps,
    readonly health: TelemetryHealth,
  ) {
    const wpc = deps.policy instanceof GovernanceError ? undefined : deps.policy.wpc;
    const a = wpc?.telemetry?.anomaly;
    this.failClosed = wpc?.telemetry?.fail_closed === true;
    if (a) {
      this.anomalyConfig = a;
      this.anomalies = new AnomalyDetector({
        ...(a.repeated_blocks ? { repeatedBlocks: a.repeated_blocks } : {}),
        ...(a.calls_per_minute ? { callsPerMinute: a.calls_per_minute } : {}),
        windowMs: (a.window_seconds ?? 60) * 1000,
      });
    }
  }

  async emit(
    record: CallRecord,
    draft: ReceiptDraft,
    receipt: { id: string; hash: string },
    decision: Decision,
  ): Promise<StageResult<object>> {
    let pauses: { job: string; reason: string }[];
    try {
      pauses = this.write(record, draft, receipt, decision);
    } catch (e) {
      return this.failure(e);
    }
    // The local anomaly response: the job is paused before the call's answer leaves.
    for (const p of pauses)
      await this.deps.jobs
        .setStatus(p.job, "paused", p.reason)
        .catch((e) => process.stderr.write(`gsmcp: could not pause job ${p.job}: ${(e as Error).message}\n`));
    return { ok: true };
  }

  /** Events that could not be written: a fail-closed policy refuses the call; a fail-open one counts and goes on. */
  private failure(e: unknown): StageResult<object> {
    if (this.failClosed)
      return failed(
        new GovernanceError(
          "telemetry_failed",
          `telemetry could not be written: ${(e as Error).message}`,
          undefined,
          undefined,
          { cause: e },
        ),
        { unsealed: true },
      );
    const h = this.health;
    h.failures++;
    h.lastError = (e as Error).message;
    if (h.failures === 1 || h.failures % 100 === 0)
      process.stderr.write(
        `gsmcp: telemetry could not be written (${h.failures} failure(s) so far; the policy is fail-open, calls go on): ${h.lastError}\n`,
      );
    return { ok: true };
  }

  /**
   * Publishes one event outside a call's sealing (an approval decision given in the client). A fail-closed policy
   * throws when it cannot be written; a fail-open one counts the failure and goes on.
   */
  publish(event: AgentSecurityEvent): void {
    try {
      this.deps.telemetry.emit(event);
    } catch (e) {
      if (this.failClosed) throw e;
      this.health.failures++;
      this.health.lastError = (e as Error).message;
    }
  }

  /** Writes the call's events; returns the jobs the anomaly response pauses. */
  private write(
    r: CallRecord,
    draft: ReceiptDraft,
    receipt: { id: string; hash: string },
    decision: Decision,
  ): { job: string; reason: string }[] {
    const common = {
      TimeGenerated: draft.time,
      AgentId: draft.agent,
      TenantId: r.workspace?.tenant ?? this.deps.tenantId,
      Action: r.op,
      ToolName: r.tool,
      ToolParameters: draft.args_redacted as Record<string, unknown>,
      SourceSystem: "governed-sentinel-mcp",
      JobId: draft.job,
      PolicyHash: draft.policy_hash,
      ReceiptId: receipt.id,
      ReceiptHash: receipt.hash,
      ...(draft.approval_id ? { ApprovalId: draft.approval_id } : {}),
      Workspace: r.workspace?.name ?? this.deps.workspaceName,
      LatencyMs: Math.round((performance.now() - r.started) * 1000) / 1000,
      ...(r.meta.promptHash ? { PromptHash: r.meta.promptHash } : {}),
      ...(r.meta.responseHash ? { ResponseHash: r.meta.responseHash } : {}),
      ...(r.meta.modelId ? { ModelId: r.meta.modelId } : {}),
    };
    const code = r.error?.code;
    const errorCode = code ? CODES[code].errorCode : 0;
    const result = r.status === "ok" ? "ok" : `${r.status}:${code ?? "error"}`;
    const severity = severityFor(decision.effect, r.error);
    const events: AgentSecurityEvent[] = [];
    if (code?.startsWith("auth_"))
      events.push({
        ...common,
        EventId: randomUUID(),
        EventType: "AuthFailure",
        PolicyDecision: "BLOCK",
        ToolResult: result,
        ErrorCode: errorCode,
        Severity: 3,
      });
    events.push({
      ...common,
      EventId: randomUUID(),
      EventType: "PolicyEvaluation",
      PolicyDecision: decision.effect,
      ToolResult: decision.reasons.map((x) => x.code).join(","),
      ErrorCode: errorCode,
      Severity: severity,
    });
    events.push({
      ...common,
      EventId: draft.event_id,
      EventType: "ToolInvocation",
      PolicyDecision: decision.effect,
      ToolResult: result,
      ErrorCode: errorCode,
      Severity: severity,
    });
    if (r.injections?.length)
      events.push({
        ...common,
        EventId: randomUUID(),
        EventType: "Anomaly",
        PolicyDecision: "LOG",
        ToolResult: `prompt_injection:${r.injections.join(",")}`,
        ErrorCode: 0,
        Severity: 3,
      });
    for (const e of events) this.deps.telemetry.emit(e);
    // Local response: the anomaly detector sees the same events; a finding is itself an event, and may pause the job.
    const pauses: { job: string; reason: string }[] = [];
    if (!this.anomalies || !this.anomalyConfig) return pauses;
    for (const e of events)
      for (const f of this.anomalies.observe(e)) {
        this.deps.telemetry.emit({
          ...common,
          EventId: randomUUID(),
          EventType: "Anomaly",
          PolicyDecision: "LOG",
          ToolResult: `${f.kind}: ${f.detail}`,
          ErrorCode: 0,
          Severity: 4,
        });
        if (this.anomalyConfig.pause_job) pauses.push({ job: f.job, reason: `anomaly ${f.kind}: ${f.detail}` });
      }
    return pauses;
  }
}

/** Severity of a call's events: a refusal's from the codes table; an executed call's from its effect. */
export function severityFor(effect: Decision["effect"], error?: GovernanceError): number {
  if (error) return CODES[error.code].severity;
  if (effect === "LOG") return 3;
  if (effect === "CONSTRAIN") return 2;
  return 1;
}
