import type { SentinelBackend } from "../sentinel/backend.js";
import type { RulePreviewRule } from "../sentinel/rule-preview.js";
import type { StoredApproval } from "../state/contract.js";

// What an approver needs beside the arguments: the object as it is now in Sentinel, a field-by-field diff of what the
// write would change, and what else it touches (for analytics rules, an impact preview). Everything read from
// Sentinel is attacker-influenced text; the pages escape it and label it as such.

export interface DiffRow {
  field: string;
  before: unknown;
  after: unknown;
  change: "changed" | "added" | "removed" | "same";
}

export type RuleFields = RulePreviewRule;
const OPERATORS = new Set(["GreaterThan", "LessThan", "Equal", "NotEqual"]);

export interface ApprovalContext {
  kind: "incident" | "analyticsRule" | "automationRule" | "watchlist" | "other";
  /** The object as Sentinel holds it now (absent for creates). */
  current?: Record<string, unknown>;
  diff: DiffRow[];
  /** Other things the write affects (rules reading a watchlist, incidents an automation rule acts on). */
  affects: string[];
  /** Analytics rules: would-have-fired counts for the proposed rule, and for the current one on updates. */
  preview?: { proposed: unknown; current?: unknown };
  /** Context that could not be read (the decision is still possible; the approver sees why it is missing). */
  errors: string[];
}

export interface ContextDeps {
  /** The backend of the approval's target workspace (the args' workspace, or the default). */
  backend(workspace: string | undefined): Promise<SentinelBackend>;
  /** Runs the governed impact preview for a rule under the approval's job policy. */
  preview(rule: RuleFields, approval: StoredApproval): Promise<unknown>;
}

const INCIDENT_FIELDS = ["status", "severity", "classification", "classificationReason", "classificationComment"];

/** Field-by-field diff of `after` over `before` for the named fields (all of both when none are named). */
export function diffFields(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
  fields?: string[],
): DiffRow[] {
  const names = fields ?? [...new Set([...Object.keys(before ?? {}), ...Object.keys(after)])];
  return names
    .filter((f) => f in after || (before && f in before))
    .map((field) => {
      const b = before?.[field];
      const a = field in after ? after[field] : b;
      const change =
        b === undefined && a !== undefined
          ? "added"
          : a === undefined && b !== undefined
            ? "removed"
            : JSON.stringify(a) === JSON.stringify(b)
              ? "same"
              : "changed";
      return { field, before: b, after: a, change };
    });
}

/** The incident fields a write would set, from its arguments (the redacted ones the approver is shown). */
export function incidentAfter(op: string, args: Record<string, unknown>): Record<string, unknown> {
  if (op === "incidents.close")
    return {
      status: "Closed",
      classification: args.classification,
      ...(args.classificationReason !== undefined ? { classificationReason: args.classificationReason } : {}),
      classificationComment: args.comment,
    };
  const after: Record<string, unknown> = {};
  for (const f of ["status", "severity", "owner", "labels"]) if (f in args) after[f] = args[f];
  return after;
}

const RULE_FIELDS = [
  "displayName",
  "description",
  "enabled",
  "severity",
  "query",
  "queryFrequency",
  "queryPeriod",
  "triggerOperator",
  "triggerThreshold",
  "tactics",
];

function ruleOf(r: Record<string, unknown>): RuleFields | undefined {
  const { query, queryFrequency, queryPeriod, triggerOperator, triggerThreshold } = r;
  if (typeof query !== "string" || typeof queryFrequency !== "string" || typeof queryPeriod !== "string") return;
  if (typeof triggerOperator !== "string" || !OPERATORS.has(triggerOperator)) return;
  if (typeof triggerThreshold !== "number") return;
  return {
    query,
    queryFrequency,
    queryPeriod,
    triggerOperator: triggerOperator as RuleFields["triggerOperator"],
    triggerThreshold,
  };
}

function settled<T>(p: Promise<T>, errors: string[], what: string): Promise<T | undefined> {
  return p.catch((e: Error) => {
    errors.push(`${what}: ${e.message}`);
    return undefined;
  });
}

export async function approvalContext(a: StoredApproval, deps: ContextDeps): Promise<ApprovalContext> {
  const args = (a.args_redacted ?? {}) as Record<string, unknown>;
  const errors: string[] = [];
  const ws = typeof args.workspace === "string" ? args.workspace : undefined;
  const backend = () => deps.backend(ws);
  const [family] = a.op.split(".");

  if (family === "incidents" && typeof args.incidentId === "string") {
    const id = args.incidentId;
    const current = await settled(
      backend().then((b) => b.getIncident(id)),
      errors,
      "the incident",
    );
    if (a.op === "incidents.comments.add")
      return {
        kind: "incident",
        ...cur(current),
        diff: diffFields({}, { comment: args.message }),
        affects: [],
        errors,
      };
    const after = incidentAfter(a.op, args);
    const fields = a.op === "incidents.close" ? INCIDENT_FIELDS : Object.keys(after);
    return {
      kind: "incident",
      ...cur(current),
      diff: diffFields(current as never, after, fields),
      affects: [],
      errors,
    };
  }

  if (family === "analyticsRules") {
    const id = typeof args.ruleId === "string" ? args.ruleId : undefined;
    const current = id
      ? ((await settled(
          backend().then((b) => b.getAnalyticsRule(id)),
          errors,
          "the rule",
        )) as unknown as Record<string, unknown> | undefined)
      : undefined;
    const { ruleId: _r, workspace: _w, reason: _why, ...fields } = args;
    const after = a.op === "analyticsRules.disable" ? { enabled: false } : fields;
    const proposedRule = ruleOf({ ...(current ?? {}), ...after });
    const currentRule = current && a.op === "analyticsRules.update" ? ruleOf(current) : undefined;
    const preview =
      proposedRule && a.op !== "analyticsRules.disable"
        ? {
            proposed: await settled(deps.preview(proposedRule, a), errors, "the impact preview"),
            ...(currentRule && currentRule.query !== proposedRule.query
              ? { current: await settled(deps.preview(currentRule, a), errors, "the current rule's preview") }
              : {}),
          }
        : undefined;
    return {
      kind: "analyticsRule",
      ...cur(current),
      diff: diffFields(current, after, RULE_FIELDS),
      affects: [],
      ...(preview ? { preview } : {}),
      errors,
    };
  }

  if (family === "automationRules" && typeof args.ruleId === "string") {
    const id = args.ruleId;
    const current = (await settled(
      backend().then((b) => b.getAutomationRule(id)),
      errors,
      "the automation rule",
    )) as unknown as Record<string, unknown> | undefined;
    const { ruleId: _r, workspace: _w, reason: _why, ...fields } = args;
    const after = a.op === "automationRules.disable" ? { enabled: false } : fields;
    const affects = current
      ? [
          `runs on ${String(current.triggersOn ?? "incidents")} when ${String(current.triggersWhen ?? "created")}, in order ${String(current.order)}`,
          `actions: ${JSON.stringify(current.actions ?? [])}`,
        ]
      : [];
    return {
      kind: "automationRule",
      ...cur(current),
      diff: diffFields(current, after, Object.keys(after)),
      affects,
      errors,
    };
  }

  if (family === "watchlists" && typeof args.watchlistAlias === "string") {
    const alias = args.watchlistAlias;
    const values = (args.values ?? {}) as Record<string, unknown>;
    const rules = await settled(
      backend().then((b) => b.listAnalyticsRules()),
      errors,
      "the analytics rules",
    );
    const needle = alias.toLowerCase();
    const affects = (rules ?? [])
      .filter((r) => r.query.toLowerCase().includes(needle))
      .map((r) => `analytics rule "${r.displayName}" (${r.enabled ? "enabled" : "disabled"}) reads watchlist ${alias}`);
    return { kind: "watchlist", diff: diffFields({}, values), affects, errors };
  }

  return { kind: "other", diff: diffFields({}, args), affects: [], errors };
}

function cur(current: unknown): { current?: Record<string, unknown> } {
  return current ? { current: current as Record<string, unknown> } : {};
}
