import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CODES, toGovernanceError } from "../../../src/governance/codes.js";
import { type GovernanceCode, GovernanceError } from "../../../src/governance/errors.js";
import { CallTelemetry } from "../../../src/governance/stages/emit.js";
import { finishCall } from "../../../src/governance/stages/finish.js";
import { refused } from "../../../src/governance/stages/types.js";
import { BackendError } from "../../../src/sentinel/errors.js";
import { harness } from "./harness.js";

const ALL = Object.keys(CODES) as GovernanceCode[];

describe("closed codes", () => {
  it("every refusal code reaches the receipt, the MCP result and the SOC event as itself, with its table row", async () => {
    const h = await harness();
    const gov = h.governor(await h.token());
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ALL), async (code) => {
        h.sink.events = [];
        const result = await gov.refuse(
          { op: "incidents.get", tool: "sentinel_incidents_get", args: {}, meta: {}, started: 0, caller: h.caller() },
          refused(new GovernanceError(code, `refused: ${code}`)),
        );
        const refusal = (result._meta as { "gsmcp/refusal": { error: { code: string }; receipt_id: string } })[
          "gsmcp/refusal"
        ];
        expect(refusal.error.code).toBe(code);
        expect((await h.deps.receipts.get(refusal.receipt_id))?.outcome.error?.code).toBe(code);
        const inv = h.sink.events.find((e) => e.EventType === "ToolInvocation")!;
        expect(inv.ErrorCode).toBe(CODES[code].errorCode);
        expect(inv.ToolResult).toBe(`refused:${code}`);
        expect(inv.Severity).toBe(CODES[code].severity);
        expect(h.sink.events.some((e) => e.EventType === "AuthFailure")).toBe(code.startsWith("auth_"));
      }),
      { numRuns: ALL.length * 3 },
    );
  });

  it("no refusal a policy or a token decides reaches the SOC as a server error (500)", () => {
    const decided = ALL.filter((c) =>
      /^(auth_|policy_|op_|workspace_|kql_(?!read_outside|query_)|approval_|job_|budget_)/.test(c),
    );
    expect(decided.length).toBeGreaterThan(20);
    for (const c of decided) expect(CODES[c].errorCode, c).toBeLessThan(500);
  });

  it("backend failures map by kind; the original error stays the cause", () => {
    const cases = [
      ["timeout", "kql_query_timeout"],
      ["limit", "kql_query_limit"],
      ["not_found", "backend_error"],
      ["failed", "backend_error"],
      ["cancelled", "cancelled"],
    ] as const;
    for (const [failure, code] of cases) {
      const e = new BackendError(failure, "x", { status: 418 });
      const g = toGovernanceError(e, "internal_error");
      expect([g.code, g.cause, g.details?.status]).toEqual([code, e, 418]);
    }
    const plain = new RangeError("y");
    expect(toGovernanceError(plain, "kql_invalid").cause).toBe(plain);
  });
});

describe("stage: emit", () => {
  const record = (h: Awaited<ReturnType<typeof harness>>) => ({
    op: "incidents.get",
    tool: "sentinel_incidents_get",
    args: {},
    meta: {},
    started: 0,
    caller: h.caller(),
    status: "ok" as const,
    output: { x: 1 },
  });

  it("fail-open: a sink failure is counted and logged, and the call goes on", async () => {
    const h = await harness();
    h.sink.fail = true;
    const t = new CallTelemetry(h.deps, { failures: 0 });
    const r = await finishCall(record(h), h.env, t);
    expect(r.isError).toBeUndefined();
    expect(t.health.failures).toBe(1);
    expect(t.health.lastError).toBe("sink down");
  });

  it("fail-closed: a sink failure refuses the call with telemetry_failed (the receipt is written)", async () => {
    const h = await harness({ ...(await harness()).policy.wpc, telemetry: { fail_closed: true } } as never);
    h.sink.fail = true;
    const r = await finishCall(record(h), h.env, new CallTelemetry(h.deps, { failures: 0 }));
    expect(r.isError).toBe(true);
    expect(r.content[0]?.text).toMatch(/^telemetry_failed/);
    expect(await h.deps.receipts.all()).toHaveLength(1);
  });
});
