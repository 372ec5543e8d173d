import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideApproval } from "../../src/cli/commands/approvals.js";
import { exportJob, verifyFile } from "../../src/cli/commands/proof.js";
import type { ProofBundle } from "../../src/receipts/bundle.js";
import { openRuntime } from "../../src/server/runtime.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { BOOKMARK_IDS, SAVED_SEARCHES } from "../../src/workspace/seed-hunting.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { signTestPolicy } from "../helpers/policy.js";
import { receiptsOf, textOf } from "../helpers/state.js";

type Session = Awaited<ReturnType<typeof startSession>>;

const HUNT_OPS = [
  "kql.query",
  "huntingQueries.list",
  "huntingQueries.run",
  "bookmarks.list",
  "bookmarks.create",
] as const;

/** A hunting policy: KQL bounded to three tables and 7 days; bookmarks need an approval. No huntingQueries.run entry:
 * running a saved query must be bound by kql.query's constraints. */
const HUNTER: WorkPolicyContract = {
  wpc_version: "v1",
  policy_name: "test-hunter",
  allow: [{ tool: "sentinel.api", ops: [...HUNT_OPS] }],
  approvals: [{ name: "hunt-evidence", required_for: ["bookmarks.create"], mode: "explicit" }],
  token_requirements: { cst_ttl_seconds_max: 900, require_policy_hash_pinning: true },
  constraints: {
    "*": { max_rows: 50 },
    "kql.query": {
      max_rows: 5,
      kql: { allowed_tables: ["SigninLogs", "AuditLogs", "DeviceProcessEvents"], max_timespan: "P7D" },
    },
  },
};

const byName = (name: string) => SAVED_SEARCHES.find((s) => s.displayName.startsWith(name))!;
const SPRAY = byName("Password spray");
const ALERTS = byName("High-severity alerts");
const EXTERNAL = byName("Sign-ins from IPs on an external threat feed");
const OTHER = SAVED_SEARCHES.find((s) => s.category !== "Hunting Queries")!;

describe("hunting queries and bookmarks over stdio", () => {
  let h: TestHome;
  let s: Session;
  let policyFile: string;
  const job = "job-hunt";
  const call = (name: string, args: Record<string, unknown>) => s.client.callTool({ name, arguments: args });
  const lastReceipt = (op: string) =>
    receiptsOf(h)
      .filter((r) => r.op === op && r.job === job)
      .at(-1)!;

  beforeAll(async () => {
    h = await makeHome();
    policyFile = signTestPolicy(h, HUNTER);
    s = await startSession(h, { policyFile, job });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("lists only saved searches in the Hunting Queries category, filtered by technique or tactic", async () => {
    const r = await call("sentinel_huntingQueries_list", {});
    expect(r.isError, textOf(r)).toBeFalsy();
    const queries = (r.structuredContent as { queries: { id: string; techniques: string[]; tactics: string[] }[] })
      .queries;
    const hunting = SAVED_SEARCHES.filter((x) => x.category === "Hunting Queries");
    expect(queries.map((q) => q.id)).toEqual(hunting.map((x) => x.id));
    expect(queries.map((q) => q.id)).not.toContain(OTHER.id);
    expect(queries[0]).toMatchObject({ tactics: ["CredentialAccess"], techniques: ["T1110", "T1110.003"] });

    const t1110 = (await call("sentinel_huntingQueries_list", { technique: "T1110" })).structuredContent as {
      queries: { id: string }[];
    };
    expect(t1110.queries.map((q) => q.id)).toEqual(
      hunting.filter((x) => x.techniques?.some((t) => t.startsWith("T1110"))).map((x) => x.id),
    );
    expect(t1110.queries.length).toBeGreaterThanOrEqual(2);
    const persistence = (await call("sentinel_huntingQueries_list", { tactic: "Persistence" })).structuredContent as {
      queries: { displayName: string }[];
    };
    expect(persistence.queries.map((q) => q.displayName)).toEqual(["Credentials added to a service principal"]);
  });

  it("invalid input is refused naming the field, before anything is looked up", async () => {
    const bad = await call("sentinel_huntingQueries_list", { technique: "T11" });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/invalid_arguments: .*technique: MITRE ATT&CK technique id/);
    const badId = await call("sentinel_huntingQueries_run", { savedSearchId: "../etc", extra: 1 });
    expect(textOf(badId)).toMatch(/savedSearchId: saved search id.*extra/);
    expect(lastReceipt("huntingQueries.run").decision_input).toBeUndefined();
    const badBm = await call("sentinel_bookmarks_create", { displayName: "x", query: "q", eventTime: "yesterday" });
    expect(textOf(badBm)).toMatch(/eventTime: ISO 8601 date-time/);
  });

  it("runs a hunting query under kql.query's constraints: hard timespan, row cap, the analysed text recorded", async () => {
    const r = await call("sentinel_huntingQueries_run", { savedSearchId: SPRAY.id, timespan: "P30D" });
    expect(r.isError, textOf(r)).toBeFalsy();
    const out = r.structuredContent as { savedSearch: { query: string }; rows: unknown[][]; timespan: string };
    expect(out.timespan).toBe("P7D");
    expect(out.savedSearch.query).toBe(SPRAY.query);
    expect(out.rows.length).toBeGreaterThan(0);
    expect(out.rows.length).toBeLessThanOrEqual(5);
    expect(JSON.stringify(out.rows)).toContain("203.0.113.45");
    expect((r._meta as Record<string, string>)["gsmcp/decision"]).toBe("CONSTRAIN");
    const receipt = lastReceipt("huntingQueries.run");
    expect(receipt.outcome.status).toBe("ok");
    expect(receipt.constraints_applied).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "timespan", value: "P7D", requested: "P30D" }),
        expect.objectContaining({ kind: "max_rows", value: 5 }),
      ]),
    );
    const kql = (receipt.decision_input as { kql: Record<string, unknown> }).kql;
    expect(kql).toMatchObject({
      tables: ["SigninLogs"],
      requestedTimespan: "P30D",
      source: {
        ref: `savedSearch:${SPRAY.id}`,
        query: SPRAY.query,
        query_sha256: `sha256:${createHash("sha256").update(SPRAY.query).digest("hex")}`,
      },
    });
  });

  it("refuses a hunting query the policy forbids, with a receipt, exactly as kql.query would", async () => {
    const tables = await call("sentinel_huntingQueries_run", { savedSearchId: ALERTS.id });
    expect(textOf(tables)).toContain("kql_table_not_allowed");
    const adHoc = await call("sentinel_kql_query", { query: ALERTS.query });
    expect(textOf(adHoc)).toContain("kql_table_not_allowed");

    const explained = await call("governance_explain", {
      op: "huntingQueries.run",
      arguments: { savedSearchId: EXTERNAL.id },
    });
    expect(JSON.stringify(explained.structuredContent)).toContain("kql_forbidden_construct");
    const unknown = await call("governance_explain", {
      op: "huntingQueries.run",
      arguments: { savedSearchId: "nope" },
    });
    expect(JSON.stringify(unknown.structuredContent)).toContain("no saved search");

    const external = await call("sentinel_huntingQueries_run", { savedSearchId: EXTERNAL.id });
    expect(external.isError).toBe(true);
    expect(textOf(external)).toContain("kql_forbidden_construct");
    expect(textOf(external)).toContain("externaldata");
    const receipt = lastReceipt("huntingQueries.run");
    expect(receipt).toMatchObject({
      outcome: { status: "refused", error: { code: "kql_forbidden_construct" } },
      decision: { effect: "BLOCK" },
      decision_input: { kql: { source: { ref: `savedSearch:${EXTERNAL.id}`, query: EXTERNAL.query } } },
    });
  });

  it("a saved search outside Hunting Queries, or one that does not exist, is a clear error", async () => {
    const other = await call("sentinel_huntingQueries_run", { savedSearchId: OTHER.id });
    expect(textOf(other)).toMatch(
      /invalid_arguments: savedSearchId: saved search "[^"]+" is in category "Log Management", not "Hunting Queries"/,
    );
    const missing = await call("sentinel_huntingQueries_run", { savedSearchId: "no-such-search" });
    expect(textOf(missing)).toMatch(
      /invalid_arguments: savedSearchId: no saved search "no-such-search".*sentinel_huntingQueries_list/,
    );
    expect(lastReceipt("huntingQueries.run").outcome.status).toBe("refused");
  });

  it("bookmarks: list; create needs approval, runs once, replay refused, rollback deletes it", async () => {
    const listed = (await call("sentinel_bookmarks_list", {})).structuredContent as { bookmarks: { id: string }[] };
    expect(listed.bookmarks.map((b) => b.id)).toEqual([...BOOKMARK_IDS]);

    const args = {
      displayName: "Spray success for adele.vance",
      query: SPRAY.query,
      queryResult: '[{"IPAddress":"203.0.113.45"}]',
      labels: ["agent"],
      tactics: ["CredentialAccess"],
      techniques: ["T1110.003"],
      eventTime: "2024-05-01T12:00:00Z",
    };
    const first = await call("sentinel_bookmarks_create", args);
    expect(textOf(first)).toContain("approval_required");
    const approvalId = /apr_[0-9a-f]{16}/.exec(textOf(first))![0];
    expect(
      ((await call("sentinel_bookmarks_list", {})).structuredContent as { bookmarks: unknown[] }).bookmarks,
    ).toHaveLength(2);
    await decideApproval(h.home, approvalId, "approved", "keep the evidence");
    const ok = await call("sentinel_bookmarks_create", args);
    expect(ok.isError, textOf(ok)).toBeFalsy();
    const created = (ok.structuredContent as { bookmark: { id: string; techniques: string[] } }).bookmark;
    expect(created.techniques).toEqual(["T1110.003"]);
    const replay = await call("sentinel_bookmarks_create", args);
    expect(textOf(replay)).toContain("approval_required");

    const writes = receiptsOf(h).filter((r) => r.op === "bookmarks.create" && r.phase !== "single");
    const intent = writes.find((r) => r.phase === "intent")!;
    expect(writes).toHaveLength(2);
    expect(intent.rollback).toMatchObject({ posture: "delete", prior_state: { bookmarkId: created.id } });
    expect(writes.find((r) => r.phase === "outcome")).toMatchObject({
      intent_receipt_id: intent.receipt_id,
      approval_id: approvalId,
      outcome: { status: "ok" },
    });
    const after = (await call("sentinel_bookmarks_list", {})).structuredContent as { bookmarks: { id: string }[] };
    expect(after.bookmarks.map((b) => b.id)).toContain(created.id);

    const runtime = await openRuntime({ home: h.home, policyRef: policyFile });
    try {
      const rb = await runtime.rollback(intent.receipt_id, "test-operator");
      expect(rb.isError, textOf(rb)).toBeFalsy();
      const again = await runtime.rollback(intent.receipt_id, "test-operator");
      expect(textOf(again)).toContain("already rolled back");
    } finally {
      await runtime.close();
    }
    const gone = (await call("sentinel_bookmarks_list", {})).structuredContent as { bookmarks: { id: string }[] };
    expect(gone.bookmarks.map((b) => b.id)).toEqual([...BOOKMARK_IDS]);
  });

  it("the job's proof bundle verifies offline, re-evaluating the hunting decisions from the recorded query facts", async () => {
    const file = (await exportJob(h.home, job, {})).file;
    const bundle = JSON.parse(readFileSync(file, "utf8")) as ProofBundle;
    const hunts = bundle.receipts.filter((r) => r.op === "huntingQueries.run" && r.decision_input);
    expect(hunts.map((r) => r.outcome.status)).toEqual(expect.arrayContaining(["ok", "refused"]));
    expect(hunts.every((r) => (r.decision_input as { kql?: { source?: unknown } }).kql?.source)).toBe(true);
    const v = await verifyFile(file, h.paths.trust);
    expect(v.steps.filter((x) => !x.ok)).toEqual([]);
    expect(v.verdict).toBe("valid");
    const decisions = Number(
      /^(\d+) decisions re-evaluated$/.exec(v.steps.find((x) => x.step === "decisions")!.notes[0]!)![1],
    );
    expect(decisions).toBeGreaterThanOrEqual(hunts.length);
  });

  it("nothing is looked up in the workspace for a call outside the job's scope or with invalid input", async () => {
    // Every workspace request in this session fails (429, no retry delay): a lookup would surface as backend_error.
    const t = await startSession(h, {
      policyFile,
      job: "job-hunt-narrow",
      ops: ["huntingQueries.list", "bookmarks.create"],
      env: { GSMCP_WORKSPACE_FAULTS: JSON.stringify({ status429: { count: 100000, retryAfterSeconds: 0 } }) },
    });
    try {
      const probe = await t.client.callTool({ name: "sentinel_huntingQueries_list", arguments: {} });
      expect(textOf(probe)).toContain("backend_error");
      const out = await t.client.callTool({
        name: "sentinel_huntingQueries_run",
        arguments: { savedSearchId: SPRAY.id },
      });
      expect(textOf(out)).toContain("op_out_of_token_scope");
      const invalid = await t.client.callTool({ name: "sentinel_bookmarks_create", arguments: { displayName: "" } });
      expect(textOf(invalid)).toContain("invalid_arguments");
      const refused = receiptsOf(h).filter((r) => r.job === "job-hunt-narrow" && r.outcome.status === "refused");
      expect(refused.map((r) => r.outcome.error?.code)).toEqual(["op_out_of_token_scope", "invalid_arguments"]);
    } finally {
      await t.close();
    }
  });
});
