import { describe, expect, it } from "vitest";
import { approvalRuleView, requirementProblem, samePerson } from "../../src/governance/approval-rules.js";
import type { Approval } from "../../src/types/approval.js";

const person = (over: Partial<NonNullable<Approval["approved_by"]>> = {}): NonNullable<Approval["approved_by"]> => ({
  id: "tid-1:oid-lead",
  iss: "https://login.example/tid-1/v2.0",
  email: "Lead@Contoso.com",
  amr: ["pwd", "mfa"],
  auth_time: "2026-12-02T10:00:00.000Z",
  ...over,
});
const DECIDED = "2026-12-02T10:05:00.000Z";

function rule(over: Record<string, unknown> = {}) {
  return approvalRuleView({ name: "writes", required_for: ["incidents.close"], mode: "explicit", ...over });
}

describe("approval rule requirements", () => {
  it("a rule with no demands accepts a key-only decision", () => {
    expect(requirementProblem({ decided_at: DECIDED }, rule())).toBeUndefined();
  });

  it("every demand on the person refuses a decision without a signed-in person", () => {
    for (const demand of [{ distinct_approver: true }, { require_mfa: true }, { max_auth_age_seconds: 300 }])
      expect(requirementProblem({ decided_at: DECIDED, requested_by: "x" }, rule(demand))).toMatch(
        /requires a signed-in approver/,
      );
  });

  it("separation of duties: the requester, by id or e-mail in any case, cannot approve; someone else can", () => {
    const r = rule({ distinct_approver: true });
    for (const requester of ["tid-1:oid-lead", "TID-1:OID-LEAD", "lead@contoso.com", " Lead@Contoso.com "])
      expect(requirementProblem({ approved_by: person(), requested_by: requester, decided_at: DECIDED }, r)).toMatch(
        /other than the job's requester/,
      );
    expect(
      requirementProblem({ approved_by: person(), requested_by: "analyst@contoso.com", decided_at: DECIDED }, r),
    ).toBeUndefined();
    expect(requirementProblem({ approved_by: person(), decided_at: DECIDED }, r)).toMatch(/names no requester/);
    expect(samePerson("tid-1:oid-lead", person({ email: undefined }))).toBe(true);
  });

  it("MFA: amr must contain mfa", () => {
    const r = rule({ require_mfa: true });
    expect(requirementProblem({ approved_by: person(), decided_at: DECIDED }, r)).toBeUndefined();
    expect(requirementProblem({ approved_by: person({ amr: ["pwd"] }), decided_at: DECIDED }, r)).toMatch(
      /multi-factor/,
    );
    expect(requirementProblem({ approved_by: person({ amr: undefined }), decided_at: DECIDED }, r)).toMatch(
      /multi-factor/,
    );
  });

  it("recent sign-in: at most max_auth_age_seconds between auth_time and the decision, an absent auth_time fails", () => {
    const r = rule({ max_auth_age_seconds: 300 });
    expect(requirementProblem({ approved_by: person(), decided_at: DECIDED }, r)).toBeUndefined();
    expect(requirementProblem({ approved_by: person(), decided_at: "2026-12-02T10:05:01.000Z" }, r)).toMatch(
      /sign in again/,
    );
    expect(requirementProblem({ approved_by: person({ auth_time: undefined }), decided_at: DECIDED }, r)).toMatch(
      /sign in again/,
    );
  });

  it("change tickets: required, and matched in full against the rule's RE2 pattern", () => {
    const r = rule({ require_change_ticket: true, change_ticket_pattern: "CHG[0-9]{7}" });
    expect(requirementProblem({ decided_at: DECIDED }, r)).toMatch(/requires a change ticket/);
    expect(requirementProblem({ decided_at: DECIDED, change_ticket: "CHG0012345" }, r)).toBeUndefined();
    for (const bad of ["CHG001234", "xCHG0012345", "CHG0012345x", "chg0012345"])
      expect(requirementProblem({ decided_at: DECIDED, change_ticket: bad }, r)).toMatch(/does not match/);
    // An invalid pattern accepts nothing rather than everything.
    expect(
      requirementProblem({ decided_at: DECIDED, change_ticket: "A" }, rule({ change_ticket_pattern: "(" })),
    ).toMatch(/does not match/);
  });
});
