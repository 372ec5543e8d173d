import { readFileSync } from "node:fs";
import { join } from "node:path";
import { toGovernanceError } from "../governance/codes.js";
import { decide, type KqlFacts } from "../governance/decide.js";
import type { GovernanceCode } from "../governance/errors.js";
import { Redactor } from "../governance/redact.js";
import type { QueryTable } from "../sentinel/backend.js";
import {
  previewRuleImpact,
  type RulePreview,
  type RulePreviewRule,
  type RulePreviewTarget,
  ruleSchedule,
} from "../sentinel/rule-preview.js";
import { checkReads, maskColumns } from "../tools/kql/bounded.js";
import type { ToolContext } from "../tools/types.js";
import type { WorkPolicyContract } from "../types/wpc.js";
import type { QueryPool } from "../workspace/query-pool.js";

// The approver console's impact preview for a pending analyticsRules.create/update: the rule's query replayed over the
// last 7 days under the job's policy, as the pipeline would govern the query (analysis, decision, time limit, read ⊆
// analysed, lineage masking, redaction). It is the approver's read, not the agent's: nothing here sees the job's
// usage, budgets or receipt log, so it is neither charged to the job nor visible in its trail.

export type RuleOp = "analyticsRules.create" | "analyticsRules.update";

export interface PreviewForApprovalInput {
  /** The job's policy: the verified policy object or its WPC. */
  policy: WorkPolicyContract | { wpc: WorkPolicyContract };
  /** The rule fields of the pending call. */
  rule: RulePreviewRule;
  /** The workspace the call targets: a local workspace directory or its backend. */
  target: RulePreviewTarget;
  /** The pipeline's policy analysis (GovernorDeps.analyzeKql; createKqlFactsAnalyzer in the server). */
  analyzeKql: (query: string, options?: { redactedColumns?: string[] }) => Promise<KqlFacts>;
  /** The newest run time (epoch ms). Default Date.now(). */
  now?: number;
  /** The policy's redactor (the server's); built from the policy when absent. */
  redactor?: Redactor;
  /** The op being approved. Default analyticsRules.create. */
  op?: RuleOp;
  /** The registry workspace name and tenant the call targets (policy workspace/tenant constraints). */
  workspace?: string;
  tenant?: string;
  /** Rows kept of the sample. Default 20. */
  sampleSize?: number;
  /** Local target: a running workspace's query pool. */
  pool?: QueryPool;
}

export type PreviewForApprovalResult =
  | {
      ok: true;
      method: RulePreview["method"];
      runs: number;
      fired: number;
      firings: RulePreview["firings"];
      sample: RulePreview["sample"] | null;
      caveat?: string;
      reason?: string;
      /** Sample columns masked by lineage (derived from a column the policy redacts). */
      redactedColumns?: string[];
      window: RulePreview["window"];
      frequency: string;
      period: string;
      /** The time limit the preview ran under (the policy's kql.max_query_seconds for the op). */
      timeLimitSeconds: number;
    }
  | { ok: false; code: GovernanceCode; message: string; fix?: string };

export async function previewForApproval(input: PreviewForApprovalInput): Promise<PreviewForApprovalResult> {
  const wpc = "wpc" in input.policy ? input.policy.wpc : input.policy;
  const op = input.op ?? "analyticsRules.create";
  try {
    ruleSchedule(input.rule);
  } catch (e) {
    return { ok: false, code: "invalid_arguments", message: (e as Error).message };
  }
  try {
    // As analyzeForPolicy (the decide stage) does: the policy's redacted columns go in, so lineage is computed.
    const redactedColumns = wpc.redaction?.columns;
    const facts = await input.analyzeKql(input.rule.query, redactedColumns ? { redactedColumns } : {});
    const workspace = input.workspace ?? workspaceName(input.target);
    // The decision the pipeline makes on this call's query; no usage, so budgets neither apply nor are spent.
    const decision = decide(wpc, {
      op,
      write: true,
      tokenScope: [op],
      workspace,
      ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
      kql: facts,
    });
    if (decision.effect === "BLOCK") {
      const r = decision.refusal ?? { code: "internal_error" as const, message: "the policy blocked the query" };
      return { ok: false, code: r.code, message: r.message };
    }
    const limit = decision.constraints.find((c) => c.kind === "query_timeout");
    const seconds = limit?.kind === "query_timeout" ? limit.seconds : undefined;
    if (seconds === undefined) return { ok: false, code: "internal_error", message: "the decision set no time limit" };
    const p = await previewRuleImpact(input.target, input.rule, {
      timeoutSeconds: seconds,
      ...(input.now !== undefined ? { now: input.now } : {}),
      ...(input.sampleSize !== undefined ? { sampleSize: input.sampleSize } : {}),
      ...(input.pool ? { pool: input.pool } : {}),
    });
    const table: QueryTable = {
      columns: p.sample ? p.sample.columns.map((c) => ({ ...c })) : [],
      rows: p.sample ? p.sample.rows.map((r) => [...r]) : [],
      ...(p.reads ? { reads: p.reads } : {}),
    };
    checkReads(table, facts);
    // maskColumns reads only the analysis from the tool context.
    const masked = maskColumns(table, { kql: facts } as ToolContext);
    const redactor = input.redactor ?? new Redactor(wpc.redaction);
    const sample = p.sample
      ? { runTime: p.sample.runTime, columns: table.columns, rows: redactor.redact(table.rows).value }
      : null;
    return {
      ok: true,
      method: p.method,
      runs: p.runs,
      fired: p.fired,
      firings: p.firings,
      sample,
      ...(p.caveat ? { caveat: p.caveat } : {}),
      ...(p.reason ? { reason: p.reason } : {}),
      ...(masked.length ? { redactedColumns: masked } : {}),
      window: p.window,
      frequency: p.frequency,
      period: p.period,
      timeLimitSeconds: seconds,
    };
  } catch (e) {
    const g = toGovernanceError(e, "internal_error");
    return { ok: false, code: g.code, message: g.message, ...(g.fix ? { fix: g.fix } : {}) };
  }
}

/** The workspace name a target stands for: a backend's own, or the local workspace's ids.json. */
function workspaceName(target: RulePreviewTarget): string {
  if (typeof target !== "string") return target.ids.workspaceName;
  try {
    return (JSON.parse(readFileSync(join(target, "ids.json"), "utf8")) as { workspaceName: string }).workspaceName;
  } catch {
    return "";
  }
}
