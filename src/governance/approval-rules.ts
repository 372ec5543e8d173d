import { RE2JS } from "re2js";
import type { Approval } from "../types/approval.js";
import type { ApprovalRule } from "../types/wpc.js";

/** What an approval rule demands of a decision (the decision's `approval`, with defaults applied). */
export interface ApprovalRuleView {
  name: string;
  mode: ApprovalRule["mode"];
  ttl_seconds: number;
  approvers: string[];
  distinct_approver: boolean;
  require_mfa: boolean;
  max_auth_age_seconds?: number;
  require_change_ticket: boolean;
  change_ticket_pattern?: string;
}

export function approvalRuleView(rule: ApprovalRule): ApprovalRuleView {
  return {
    name: rule.name,
    mode: rule.mode,
    ttl_seconds: rule.ttl_seconds ?? 900,
    approvers: rule.approvers ?? [],
    distinct_approver: rule.distinct_approver ?? false,
    require_mfa: rule.require_mfa ?? false,
    ...(rule.max_auth_age_seconds ? { max_auth_age_seconds: rule.max_auth_age_seconds } : {}),
    require_change_ticket: rule.require_change_ticket ?? false,
    ...(rule.change_ticket_pattern ? { change_ticket_pattern: rule.change_ticket_pattern } : {}),
  };
}

/** Whether the rule asks anything of the person deciding (then only a signed-in console approver can satisfy it). */
export function needsPerson(rule: ApprovalRuleView): boolean {
  return rule.distinct_approver || rule.require_mfa || rule.max_auth_age_seconds !== undefined;
}

/**
 * The job's requester and the approver are the same person: requested_by names them by console identity (tid:oid or
 * issuer#sub) or by e-mail/UPN; compared case-insensitively, as Entra compares UPNs.
 */
export function samePerson(requestedBy: string, approver: NonNullable<Approval["approved_by"]>): boolean {
  const who = requestedBy.trim().toLowerCase();
  return [approver.id, approver.email].some((x) => x !== undefined && x.toLowerCase() === who);
}

/**
 * Why a decision does not meet the rule's demands on who decided and how — separation of duties, MFA, a recent
 * sign-in, a change ticket — or undefined. The console checks before signing (and refuses); the approval gate checks
 * the signed approval again before use, so an approval made elsewhere (the CLI, the client) cannot slip past.
 */
export function requirementProblem(
  a: Pick<Approval, "approved_by" | "requested_by" | "change_ticket" | "decided_at">,
  rule: ApprovalRuleView,
): string | undefined {
  const person = a.approved_by;
  if (needsPerson(rule) && !person)
    return `rule "${rule.name}" requires a signed-in approver (gsmcp console), not a key alone`;
  if (rule.distinct_approver && person) {
    if (!a.requested_by)
      return `rule "${rule.name}" requires the approver to differ from the requester, but the job's token names no requester (token issue --requested-by)`;
    if (samePerson(a.requested_by, person))
      return `rule "${rule.name}" requires an approver other than the job's requester (${a.requested_by})`;
  }
  if (rule.require_mfa && person && !person.amr?.includes("mfa"))
    return `rule "${rule.name}" requires the approver to have signed in with multi-factor authentication`;
  if (rule.max_auth_age_seconds !== undefined && person) {
    const age = person.auth_time && a.decided_at ? Date.parse(a.decided_at) - Date.parse(person.auth_time) : Number.NaN;
    if (!(age <= rule.max_auth_age_seconds * 1000))
      return `rule "${rule.name}" requires a sign-in at most ${rule.max_auth_age_seconds}s before the decision; sign in again`;
  }
  if (rule.require_change_ticket && !a.change_ticket) return `rule "${rule.name}" requires a change ticket`;
  if (a.change_ticket && rule.change_ticket_pattern && !ticketMatches(rule.change_ticket_pattern, a.change_ticket))
    return `change ticket "${a.change_ticket}" does not match the pattern ${rule.change_ticket_pattern} of rule "${rule.name}"`;
  return undefined;
}

function ticketMatches(pattern: string, ticket: string): boolean {
  try {
    return RE2JS.compile(pattern).matches(ticket);
  } catch {
    return false; // an invalid pattern accepts nothing (policy lint reports it)
  }
}
