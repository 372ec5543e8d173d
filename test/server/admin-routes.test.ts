import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import {
  ADMIN_ID_PATTERNS,
  ADMIN_ROUTES,
  matchAdminRoute,
  operatorTokenMatches,
  parseAdminQuery,
} from "../../src/server/admin.js";
import { startHttpServer } from "../../src/server/http.js";
import { openRuntime, type Runtime } from "../../src/server/runtime.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { rawJson } from "../helpers/raw-http.js";
import { receiptsOf } from "../helpers/state.js";

// Operator endpoint hygiene: the token check, strict routes, ids and parameters, a structured error for every bad
// input, rate limits, read-only GETs, and refusal receipts.

const OPERATOR = "operator-secret-routes-0123456789";
const auth = { authorization: `Bearer ${OPERATOR}` };

const raw = rawJson;

describe("operator endpoint: routes, ids and parameters (pure)", () => {
  it("matches each route and nothing else", () => {
    expect(matchAdminRoute("POST", "/admin/jobs/job-1/pause").params).toEqual({ job: "job-1" });
    expect(matchAdminRoute("POST", "/admin/jobs/ops%3Atriage.42/resume").params).toEqual({ job: "ops:triage.42" });
    expect(matchAdminRoute("GET", "/admin/jobs/j/forensics").route.readOnly).toBe(true);
    expect(matchAdminRoute("POST", "/admin/incidents/0a1b-2c/notify").params).toEqual({ incident: "0a1b-2c" });
    const refusal = (m: string, p: string) => {
      try {
        matchAdminRoute(m, p);
      } catch (e) {
        const r = e as { status: number; field?: string; fix: string; headers: Record<string, string> };
        return { status: r.status, field: r.field, allow: r.headers.allow };
      }
      throw new Error("matched");
    };
    expect(refusal("GET", "/admin/jobs/j/pause")).toEqual({ status: 405, field: "method", allow: "POST" });
    expect(refusal("POST", "/admin/jobs/j/forensics")).toEqual({ status: 405, field: "method", allow: "GET" });
    expect(refusal("DELETE", "/admin/incidents/i/notify")).toEqual({ status: 405, field: "method", allow: "POST" });
    expect(refusal("POST", "/admin/jobs/j/delete")).toMatchObject({ status: 404, field: "path" });
    expect(refusal("POST", "/admin/jobs/j/pause/")).toMatchObject({ status: 404, field: "path" });
    expect(refusal("POST", "/admin/jobs//pause")).toMatchObject({ status: 400, field: "job" });
    expect(refusal("POST", "/admin/jobs/a%2Fb/pause")).toMatchObject({ status: 400, field: "job" });
    expect(refusal("POST", "/admin/jobs/..%2F..%2Fetc/pause")).toMatchObject({ status: 400, field: "job" });
    expect(refusal("POST", `/admin/jobs/${"x".repeat(129)}/pause`)).toMatchObject({ status: 400, field: "job" });
    expect(refusal("POST", "/admin/jobs/%E0%A4%A/pause")).toMatchObject({ status: 400, field: "path" });
    expect(refusal("POST", "/admin/incidents/a.b/notify")).toMatchObject({ status: 400, field: "incident" });
  });

  it("any path and method either matches a route with valid ids or is refused with 400/404/405 and a field", () => {
    const seg = fc.oneof(
      fc.constantFrom(
        "admin",
        "jobs",
        "incidents",
        "pause",
        "resume",
        "forensics",
        "notify",
        "",
        "..",
        "%2F",
        "%3A",
        "%",
      ),
      fc.string({ maxLength: 12 }),
      fc.stringMatching(/^[A-Za-z0-9._:%-]{1,20}$/),
    );
    fc.assert(
      fc.property(
        fc.constantFrom("GET", "POST", "PUT", "DELETE", "HEAD"),
        fc.array(seg, { maxLength: 6 }),
        (m, segs) => {
          const path = `/admin/${segs.join("/")}`;
          let matched: ReturnType<typeof matchAdminRoute> | undefined;
          try {
            matched = matchAdminRoute(m, path);
          } catch (e) {
            const r = e as { status?: number; field?: string; fix?: string };
            expect([400, 404, 405]).toContain(r.status);
            expect(typeof r.field).toBe("string");
            expect(r.fix?.length).toBeGreaterThan(0);
            return;
          }
          expect(matched.route.method).toBe(m);
          for (const [name, value] of Object.entries(matched.params))
            expect(value).toMatch(ADMIN_ID_PATTERNS[name]!.re);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("accepts only a route's own query parameters, each once", () => {
    const forensics = ADMIN_ROUTES.find((r) => r.path.endsWith("/forensics"))!;
    const pause = ADMIN_ROUTES.find((r) => r.path.endsWith("/pause"))!;
    expect(parseAdminQuery(forensics, "tree_size=3&max_chars=5000")).toEqual({ tree_size: "3", max_chars: "5000" });
    expect(() => parseAdminQuery(forensics, "tree_size=1&tree_size=2")).toThrow(/given twice/);
    expect(() => parseAdminQuery(forensics, "treesize=1")).toThrow(/unknown query parameter "treesize"/);
    expect(() => parseAdminQuery(pause, "force=1")).toThrow(/unknown query parameter/);
  });

  it("compares the token in constant time over digests (no length oracle) and refuses without one", () => {
    expect(operatorTokenMatches(OPERATOR, OPERATOR)).toBe(true);
    expect(operatorTokenMatches(`${OPERATOR}x`, OPERATOR)).toBe(false);
    expect(operatorTokenMatches("", OPERATOR)).toBe(false);
    expect(operatorTokenMatches(undefined, OPERATOR)).toBe(false);
    expect(operatorTokenMatches("", "")).toBe(false);
    expect(operatorTokenMatches("anything", undefined)).toBe(false);
  });
});

describe("operator endpoint over HTTP", () => {
  let h: TestHome;
  let runtime: Runtime;
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  let base: string;
  let cst: string;

  beforeAll(async () => {
    h = await makeHome();
    const policy = h.policyFile("triage-readonly");
    runtime = await openRuntime({ home: h.home, policyRef: policy });
    http = await startHttpServer(runtime, {
      host: "127.0.0.1",
      port: 0,
      adminToken: OPERATOR,
      refusalIntervalMs: 60_000,
      admin: { log: () => {}, stateRate: { rate: 0.01, burst: 12 }, forensicsRate: { rate: 0.01, burst: 8 } },
    });
    base = http.url.replace("/mcp", "");
    cst = (await issueCst(h.home, { policy, job: "job-r", agent: "claude" })).token;
    await runtime.governorFor(cst).call("sentinel_incidents_list", { top: 1 });
  });
  afterAll(async () => {
    await http?.close();
    await runtime?.close();
  });

  it("refuses without the operator token (a CST is not one), before telling anything about routes", async () => {
    const headerSets: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${cst}` },
      { authorization: `Basic ${OPERATOR}` },
    ];
    for (const headers of headerSets) {
      for (const path of ["/admin/jobs/job-r/pause", "/admin/nothing-here", "/admin"]) {
        const r = await raw(`${base}${path}`, { method: "POST", headers });
        expect(r.status).toBe(401);
        expect(r.headers["www-authenticate"]).toBeUndefined();
        expect(r.json.fix).toMatch(/operator token/);
      }
    }
    expect((await runtime.jobs.get("job-r"))?.status).toBe("active");
    const refused = receiptsOf(h).filter((r) => r.tool === "http.admin");
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]!.outcome).toMatchObject({ status: "refused" });
  });

  it("answers every bad input with the field and the fix, and records it", async () => {
    const before = receiptsOf(h).filter((r) => r.tool === "http.admin").length;
    const cases: [string, string, number, string, string][] = [
      ["GET", "/admin/jobs/job-r/pause", 405, "method_not_allowed", "method"],
      ["POST", "/admin/jobs/job-r/forensics", 405, "method_not_allowed", "method"],
      ["POST", "/admin/jobs/bad$job/pause", 400, "invalid_request", "job"],
      ["POST", "/admin/jobs/job-r/pause?now=1", 400, "invalid_request", "query.now"],
      ["POST", "/admin/jobs/nobody/pause", 404, "no_such_job", "job"],
      ["POST", "/admin/jobs/job-r/explode", 404, "not_found", "path"],
    ];
    for (const [method, path, status, error, field] of cases) {
      const r = await raw(`${base}${path}`, { method, headers: auth });
      expect({ path, status: r.status, error: r.json.error, field: r.json.field }).toEqual({
        path,
        status,
        error,
        field,
      });
      expect(String(r.json.fix).length).toBeGreaterThan(5);
    }
    expect((await raw(`${base}/admin/jobs/job-r/pause`, { method: "GET", headers: auth })).headers.allow).toBe("POST");
    const after = receiptsOf(h).filter((r) => r.tool === "http.admin");
    expect(after.length).toBeGreaterThan(before);
    expect(after.at(-1)!.outcome.error?.message).toMatch(/^operator endpoint: /);
  });

  it("forensics parameters are checked; GET never changes the job", async () => {
    const bad: [string, string][] = [
      ["tree_size=0", "query.tree_size"],
      ["tree_size=abc", "query.tree_size"],
      ["tree_size=99", "query.tree_size"],
      ["max_chars=100", "query.max_chars"],
    ];
    for (const [q, field] of bad) {
      const r = await raw(`${base}/admin/jobs/job-r/forensics?${q}`, { headers: auth });
      expect({ q, status: r.status, field: r.json.field }).toEqual({ q, status: 400, field });
    }
    expect((await raw(`${base}/admin/jobs/nobody/forensics`, { headers: auth })).json).toMatchObject({
      error: "no_such_job",
      field: "job",
    });
    expect((await runtime.jobs.get("job-r"))?.status).toBe("active");
  });

  it("pauses and resumes with the job's row as the record; its own rate limit answers 429 with Retry-After", async () => {
    expect((await raw(`${base}/admin/jobs/job-r/pause`, { method: "POST", headers: auth })).json).toEqual({
      job: "job-r",
      status: "paused",
    });
    expect(await runtime.jobs.get("job-r")).toMatchObject({
      status: "paused",
      reason: "paused by playbook (operator endpoint)",
    });
    expect((await raw(`${base}/admin/jobs/job-r/resume`, { method: "POST", headers: auth })).json).toEqual({
      job: "job-r",
      status: "active",
    });
    let limited: Awaited<ReturnType<typeof raw>> | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const r = await raw(`${base}/admin/jobs/job-r/resume`, { method: "POST", headers: auth });
      if (r.status === 429) limited = r;
    }
    expect(limited?.json).toMatchObject({ error: "rate_limited" });
    expect(Number(limited?.headers["retry-after"])).toBeGreaterThan(0);
  });
});
