import { describe, expect, it } from "vitest";
import { GovernanceError } from "../../../src/governance/errors.js";
import { admit } from "../../../src/governance/stages/admit.js";
import { SessionAuth } from "../../../src/governance/stages/authenticate.js";
import { harness } from "./harness.js";

describe("stage: authenticate", () => {
  it("admits a valid token and refuses it once expired, even though the verification is cached", async () => {
    const h = await harness();
    const auth = new SessionAuth({ ...h.deps, now: () => h.clock.now }, await h.token({ ttl: 300 }));
    const ok = await auth.authenticate();
    expect(ok.ok && ok.caller.claims.job).toBe("job-1");
    h.clock.now += 301_000 + 60_000; // past exp + allowed skew
    const late = await auth.authenticate();
    expect(late.ok).toBe(false);
    expect(!late.ok && late.error.code).toBe("auth_expired");
  });

  it("refuses garbage, a token from an untrusted key, and any token under an unusable policy", async () => {
    const h = await harness();
    const garbage = await new SessionAuth({ ...h.deps, now: () => h.clock.now }, "not-a-jwt").authenticate();
    expect(!garbage.ok && garbage.error.code).toMatch(/^auth_/);
    const other = await harness();
    const foreign = await new SessionAuth({ ...h.deps, now: () => h.clock.now }, await other.token()).authenticate();
    expect(!foreign.ok && foreign.error.code).toBe("auth_untrusted_issuer");
    const broken = new GovernanceError("policy_unsigned", "policy is not signed");
    const r = await new SessionAuth(
      { ...h.deps, policy: broken, now: () => h.clock.now },
      await h.token(),
    ).authenticate();
    expect(!r.ok && r.error.code).toBe("policy_unsigned");
  });
});

describe("stage: admit", () => {
  const deps = (h: Awaited<ReturnType<typeof harness>>) => ({
    jobs: h.deps.jobs,
    now: () => h.clock.now,
    recordToken: async () => undefined,
  });

  it("refuses an unknown tool, and unknown or wrong fields naming each field", async () => {
    const h = await harness();
    const unknown = await admit("sentinel_nope", {}, h.caller(), deps(h));
    expect(!unknown.ok && unknown.error.code).toBe("unknown_tool");
    const extra = await admit("sentinel_incidents_get", { incidentId: "inc-1", sneaky: 1 }, h.caller(), deps(h));
    expect(!extra.ok && extra.error.code).toBe("invalid_arguments");
    expect(!extra.ok && extra.error.message).toContain('"sneaky"');
    const wrong = await admit("sentinel_incidents_get", { incidentId: 7 }, h.caller(), deps(h));
    expect(!wrong.ok && wrong.error.message).toContain("incidentId");
  });

  it("returns the parsed arguments for an active job and refuses a paused one", async () => {
    const h = await harness();
    const ok = await admit("sentinel_incidents_get", { incidentId: "inc-1" }, h.caller(), deps(h));
    expect(ok.ok && ok.tool.op).toBe("incidents.get");
    expect(ok.ok && ok.args).toEqual({ incidentId: "inc-1" });
    h.deps.jobs.setStatus("job-1", "paused", "SOC said so");
    const paused = await admit("sentinel_incidents_get", { incidentId: "inc-1" }, h.caller(), deps(h));
    expect(!paused.ok && paused.error.code).toBe("job_paused");
    expect(!paused.ok && paused.error.message).toContain("SOC said so");
  });
});
