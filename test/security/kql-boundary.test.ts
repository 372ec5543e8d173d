import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StdioSession } from "../../src/server/stdio-client.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";
import { eventsOf, receiptsOf, textOf } from "../helpers/state.js";

// The KQL boundary through the real stdio server: column redaction by lineage, refusals where lineage is unknown or
// predicates on redacted data are forbidden, and the query time limit. Every refusal has a receipt and an event.

function redactingPolicy(name: string, extra: Partial<WorkPolicyContract["redaction"]> = {}): WorkPolicyContract {
  const p = examplePolicy("triage-readonly");
  return {
    ...p,
    policy_name: name,
    redaction: { builtin: ["secrets"], columns: ["SigninLogs.UserPrincipalName"], ...extra },
  };
}

describe("KQL boundary through the real server", () => {
  let h: TestHome;
  let upns: string[];
  let s: StdioSession;

  const query = async (q: string) => {
    const r = await s.client.callTool({ name: "sentinel_kql_query", arguments: { query: q, timespan: "P7D" } });
    return { r, text: textOf(r), out: r.structuredContent as { rows: unknown[][]; redactedColumns?: string[] } };
  };

  beforeAll(async () => {
    h = await makeHome();
    const plain = await startSession(h, { job: "learn" });
    const r = await plain.client.callTool({
      name: "sentinel_kql_query",
      arguments: { query: "SigninLogs | distinct UserPrincipalName", timespan: "P7D" },
    });
    upns = (r.structuredContent as { rows: string[][] }).rows.map((x) => x[0]!);
    await plain.close();
    expect(upns.length).toBeGreaterThan(0);
    s = await startSession(h, { policyFile: signTestPolicy(h, redactingPolicy("redact-upn")), job: "redact" });
  });

  afterAll(async () => {
    await s?.close();
  });

  const leaked = (text: string) =>
    upns.some((u) => {
      const local = u.split("@")[0]!;
      return [
        u,
        local,
        [...u].reverse().join(""),
        Buffer.from(u).toString("base64"),
        Buffer.from(u).toString("hex"),
        encodeURIComponent(u),
      ].some((f) => text.toLowerCase().includes(f.toLowerCase()));
    });

  it("masks every output column derived from a redacted column, whatever the query does to it", async () => {
    for (const q of [
      "SigninLogs | project UserPrincipalName, IPAddress",
      "SigninLogs | project x = replace_string(UserPrincipalName, '@', ' at '), IPAddress",
      "SigninLogs | project x = split(UserPrincipalName, '')",
      "SigninLogs | project x = base64_encode_tostring(UserPrincipalName), IPAddress",
      "SigninLogs | project x = reverse(UserPrincipalName)",
      "SigninLogs | project x = url_encode(UserPrincipalName), y = unicode_codepoints_from_string(UserPrincipalName)",
      "SigninLogs | project x = base64_decode_tostring(base64_encode_tostring(UserPrincipalName))",
      "SigninLogs | project x = strcat_delim('.', substring(UserPrincipalName, 0, 3), substring(UserPrincipalName, 3))",
      "SigninLogs | extend d = pack('u', UserPrincipalName) | project y = tostring(d.u)",
      "SigninLogs | summarize make_set(tolower(UserPrincipalName))",
      "SigninLogs | summarize any(UserPrincipalName) by IPAddress",
      "SigninLogs | extend x = iff(isnotempty(UserPrincipalName), toupper(UserPrincipalName), '') | project x",
      "SigninLogs | project IPAddress | join kind=inner (SigninLogs | project IPAddress, who = UserPrincipalName) on IPAddress",
    ]) {
      const { r, text, out } = await query(q);
      expect(r.isError, `${q}: ${text}`).toBeFalsy();
      expect(out.redactedColumns?.length, q).toBeGreaterThan(0);
      expect(leaked(text), `${q} leaked: ${text.slice(0, 300)}`).toBe(false);
      expect(r._meta?.["gsmcp/decision"]).toBe("CONSTRAIN");
    }
    // kql.validate says beforehand what would be masked and which predicates touch redacted data.
    const v = await s.client.callTool({
      name: "sentinel_kql_validate",
      arguments: {
        query: "SigninLogs | where UserPrincipalName has 'x' | project u = tolower(UserPrincipalName), IPAddress",
      },
    });
    expect(v.structuredContent).toMatchObject({
      valid: true,
      policyEffect: "CONSTRAIN",
      redactedColumns: ["u"],
      redactedPredicates: ["where:UserPrincipalName"],
    });
    // Columns that do not derive from the redacted one stay readable.
    const { out } = await query("SigninLogs | project IPAddress, Location | take 3");
    expect(out.redactedColumns).toBeUndefined();
    expect(out.rows.length).toBeGreaterThan(0);
    const masked = receiptsOf(h).filter(
      (r) => r.job === "redact" && JSON.stringify(r.decision).includes("column_redaction"),
    );
    expect(masked.length).toBeGreaterThanOrEqual(13);
  });

  it("refuses a query whose lineage cannot be established, with a receipt and an event", async () => {
    const before = receiptsOf(h).length;
    const { r, text } = await query(
      "SigninLogs | extend x = column_ifexists(strcat('UserPrincipal', 'Name'), '') | project x",
    );
    expect(r.isError).toBe(true);
    expect(text).toContain("kql_lineage_unknown");
    expect(text).toContain("column_ifexists");
    const rec = receiptsOf(h).slice(before);
    expect(rec).toHaveLength(1);
    expect(rec[0]!.outcome).toMatchObject({ status: "refused", error: { code: "kql_lineage_unknown" } });
    expect(eventsOf(h).some((e) => e.ReceiptId === rec[0]!.receipt_id && e.PolicyDecision === "BLOCK")).toBe(true);
  });

  it("a policy can forbid predicates on redacted columns", async () => {
    const strict = await startSession(h, {
      policyFile: signTestPolicy(h, redactingPolicy("redact-upn-strict", { column_predicates: "block" })),
      job: "strict",
    });
    try {
      for (const q of [
        "SigninLogs | where UserPrincipalName startswith 'a' | count",
        "SigninLogs | project IPAddress, U = UserPrincipalName | where U has 'contoso' | project IPAddress",
        "SigninLogs | sort by UserPrincipalName asc | project IPAddress",
      ]) {
        const r = await strict.client.callTool({ name: "sentinel_kql_query", arguments: { query: q } });
        expect(r.isError, q).toBe(true);
        expect(textOf(r), q).toContain("kql_redacted_predicate");
      }
      const ok = await strict.client.callTool({
        name: "sentinel_kql_query",
        arguments: { query: "SigninLogs | where IPAddress startswith '10.' | project IPAddress" },
      });
      expect(ok.isError, textOf(ok)).toBeFalsy();
    } finally {
      await strict.close();
    }
  });

  it("a policy can give predicates on redacted columns a per-job budget", async () => {
    const budget = await startSession(h, {
      policyFile: signTestPolicy(h, redactingPolicy("redact-upn-budget", { max_predicate_queries: 2 })),
      job: "probe-budget",
    });
    try {
      const probe = (q: string) => budget.client.callTool({ name: "sentinel_kql_query", arguments: { query: q } });
      // Queries without predicates on the redacted column do not count.
      for (let i = 0; i < 3; i++) expect((await probe("SigninLogs | project IPAddress | take 1")).isError).toBeFalsy();
      expect((await probe("SigninLogs | where UserPrincipalName startswith 'a' | count")).isError).toBeFalsy();
      expect((await probe("SigninLogs | top 1 by UserPrincipalName | project IPAddress")).isError).toBeFalsy();
      const third = await probe("SigninLogs | where UserPrincipalName startswith 'b' | count");
      expect(third.isError).toBe(true);
      expect(textOf(third)).toContain("kql_redacted_predicate");
      expect(textOf(third)).toContain("has used its 2 such queries");
      const rec = receiptsOf(h).filter((x) => x.job === "probe-budget");
      expect(rec.at(-1)!.outcome).toMatchObject({ status: "refused", error: { code: "kql_redacted_predicate" } });
      expect(
        (rec.at(-2)!.decision_input as { kql: { lineage: { predicates: string[] } } }).kql.lineage.predicates,
      ).toEqual(["top:UserPrincipalName"]);
    } finally {
      await budget.close();
    }
  });

  it("a runaway query is stopped at the policy's max_query_seconds while other calls answer; regexes run on RE2", async () => {
    const p = examplePolicy("triage-readonly");
    const limited = signTestPolicy(h, {
      ...p,
      policy_name: "kql-5s",
      constraints: {
        ...p.constraints,
        "kql.query": {
          ...p.constraints!["kql.query"],
          // Long enough that the bystander's calls answer first even on a loaded machine; the runaway runs far longer.
          kql: { ...p.constraints!["kql.query"]!.kql, max_query_seconds: 5 },
        },
      },
    });
    const a = await startSession(h, { policyFile: limited, job: "runaway" });
    const b = await startSession(h, { policyFile: limited, job: "bystander" });
    try {
      const order: string[] = [];
      const runaway = a.client
        .callTool({
          name: "sentinel_kql_query",
          arguments: {
            query: `range x from 1 to 1000000 step 1 | where ${"hash_sha256(".repeat(12)}tostring(x)${")".repeat(12)} == "nope" | count`,
          },
        })
        .then((r) => {
          order.push("runaway");
          return r;
        });
      await new Promise((r) => setTimeout(r, 200));
      const list = await b.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 5 } });
      order.push("bystander");
      expect(list.isError, textOf(list)).toBeFalsy();
      // Catastrophic for a backtracking engine over a 60,000-character string; linear on RE2, so it answers.
      const regex = await b.client.callTool({
        name: "sentinel_kql_query",
        arguments: {
          query:
            'range x from 1 to 20000 step 1 | summarize l = make_list("a") | extend s = tostring(l) | extend m = s matches regex @\'^\\[("a",?)*("a",?)*\\]x\' | project m',
        },
      });
      order.push("regex");
      expect(regex.isError, textOf(regex)).toBeFalsy();
      expect((regex.structuredContent as { rows: unknown[][] }).rows).toEqual([[false]]);
      const r = await runaway;
      expect(order).toEqual(["bystander", "regex", "runaway"]);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("kql_query_timeout");
      expect(textOf(r)).toMatch(/server timeout of 5s/);
      const rec = receiptsOf(h).filter((x) => x.job === "runaway");
      expect(rec.at(-1)!.outcome).toMatchObject({ error: { code: "kql_query_timeout" } });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
