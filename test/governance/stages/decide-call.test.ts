import { describe, expect, it } from "vitest";
import { decideCall } from "../../../src/governance/stages/decide-call.js";
import { BackendError } from "../../../src/sentinel/errors.js";
import { toolByOp } from "../../../src/tools/registry.js";
import { textOf } from "../../helpers/state.js";
import { harness } from "./harness.js";

describe("stage: decide", () => {
  it("a denied op is refused with the BLOCK decision and the codes table's fix", async () => {
    const h = await harness();
    const r = await decideCall(toolByOp("incidents.close")!, {}, h.caller(), h.env);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe("op_denied");
    expect(r.decision?.effect).toBe("BLOCK");
    expect(r.error.fix).toContain("governance_explain");
  });

  it("an allowed read is decided with the policy's constraints", async () => {
    const h = await harness();
    const r = await decideCall(toolByOp("incidents.get")!, { incidentId: "inc-1" }, h.caller(), h.env);
    expect(r.ok && r.decision.constraints.some((c) => c.kind === "max_rows")).toBe(true);
  });

  it("nothing is resolved from Sentinel for a call the policy or token already refuses", async () => {
    const h = await harness();
    const tool = toolByOp("huntingQueries.run")!;
    const r = await decideCall(tool, { savedSearchId: "q1" }, h.caller("job-1", ["incidents.get"]), h.env);
    expect(!r.ok && r.error.code).toBe("op_out_of_token_scope");
    expect(h.sentinel.calls).toEqual([]);
  });

  // Review defect: a backend failure while resolving a saved search was labelled kql_invalid by the call and
  // invalid_arguments by governance_explain. One stage, one mapping: both say backend_error.
  it("a backend failure while resolving a saved search is backend_error, for the call and for explain alike", async () => {
    for (const failure of [
      () => new Error("socket hang up"),
      () => new BackendError("failed", "Sentinel call failed (HTTP 503)", { status: 503 }),
    ]) {
      const h = await harness();
      h.sentinel.fail = failure;
      const r = await decideCall(toolByOp("huntingQueries.run")!, { savedSearchId: "q1" }, h.caller(), h.env);
      expect(!r.ok && r.error.code).toBe("backend_error");

      const gov = h.governor(await h.token());
      const call = await gov.call("sentinel_huntingQueries_run", { savedSearchId: "q1" });
      expect(textOf(call)).toMatch(/^backend_error:/);
      const explained = await gov.call("governance_explain", {
        op: "huntingQueries.run",
        arguments: { savedSearchId: "q1" },
      });
      const e = explained.structuredContent as { effect: string; reasons: { code: string }[] };
      expect(e.effect, textOf(explained)).toBe("BLOCK");
      expect(e.reasons.at(-1)?.code).toBe("backend_error");
    }
  });

  it("the backend unreachable while resolving is backend_error too (it used to be kql_invalid)", async () => {
    const h = await harness(undefined, { backendDown: true });
    const r = await decideCall(toolByOp("huntingQueries.run")!, { savedSearchId: "q1" }, h.caller(), h.env);
    expect(!r.ok && r.error.code).toBe("backend_error");
  });
});
