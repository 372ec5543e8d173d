import { describe, expect, it } from "vitest";
import { type DecisionRequest, decide } from "../../../src/governance/decide.js";
import type { WorkPolicyContract } from "../../../src/types/wpc.js";
import { harness, POLICY } from "./harness.js";

// The reserve stage: a job's call budget holds exactly when its calls arrive at once (sessions of one server, or
// replicas on one store): the decision reads usage before the call, the reservation takes the slot atomically.

describe("stage: reserve (call budgets under concurrency)", () => {
  for (const max of [1, 3, 8])
    it(`${max * 3} concurrent calls of a job with max_calls ${max}: exactly ${max} run; the rest are refused with receipts that verify against the policy`, async () => {
      const h = await harness({ ...POLICY, budgets: { max_calls: max } } as WorkPolicyContract);
      const gov = h.governor(await h.token({ job: "job-budget" }));
      const results = await Promise.all(
        Array.from({ length: max * 3 }, () => gov.call("sentinel_incidents_get", { incidentId: "inc-1" })),
      );
      const ran = results.filter((r) => !r.isError);
      expect(ran).toHaveLength(max);
      for (const r of results.filter((x) => x.isError)) expect(r.content[0]?.text).toMatch(/^budget_exceeded/);
      expect(h.sentinel.calls.filter((c) => c === "getIncident")).toHaveLength(max);
      // Each receipt's decision is what the policy says on the inputs it recorded (what a bundle verifier re-checks).
      for (const r of await h.deps.receipts.forJob("job-budget")) {
        const again = decide(h.policy.wpc, r.decision_input as unknown as DecisionRequest);
        expect(again.effect).toBe(r.decision.effect);
        expect(again.reasons.map((x) => x.code)).toEqual(r.decision.reasons.map((x) => x.code));
      }
      // Every call counts once, run or refused.
      expect((await h.deps.jobs.get("job-budget"))?.calls).toBe(max * 3);
    });
});
