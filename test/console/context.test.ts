import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvalContext, diffFields } from "../../src/console/context.js";
import { escapeHtml, html, Markup } from "../../src/console/html.js";
import { requireHome } from "../../src/governance/home.js";
import { readRegistry } from "../../src/registry/workspaces.js";
import type { SentinelBackend } from "../../src/sentinel/backend.js";
import { openBackendFor } from "../../src/sentinel/open.js";
import type { StoredApproval } from "../../src/state/contract.js";
import { makeHome, type TestHome } from "../helpers/home.js";

function approval(op: string, args: Record<string, unknown>): StoredApproval {
  return {
    approval_id: "apr_0123456789abcdef",
    job: "j",
    op,
    args_hash: `sha256:${"0".repeat(64)}`,
    args_redacted: args,
    policy_hash: `sha256:${"1".repeat(64)}`,
    rule: "r",
    requested_at: "2026-12-02T00:00:00.000Z",
    expires_at: "2026-12-02T00:15:00.000Z",
    decision: "pending",
  };
}

describe("approval context from the embedded workspace (real SDK path)", () => {
  let h: TestHome;
  let backend: SentinelBackend;
  const deps = () => ({
    backend: async () => backend,
    preview: async () => ({ ok: true, fired: 0 }),
  });

  beforeAll(async () => {
    h = await makeHome();
    const { paths, config } = requireHome(h.home);
    backend = await openBackendFor(paths, readRegistry(paths, config).defaultEntry);
  }, 60_000);
  afterAll(async () => backend?.close());

  it("incident update: the current incident and only the fields the write sets", async () => {
    const [inc] = await backend.listIncidents({ top: 1 });
    const c = await approvalContext(
      approval("incidents.update", { incidentId: inc!.id, severity: "Low", labels: ["x"] }),
      deps(),
    );
    expect(c.kind).toBe("incident");
    expect(c.current?.id).toBe(inc!.id);
    expect(c.diff.map((d) => d.field)).toEqual(["severity", "labels"]);
    expect(c.diff[0]).toMatchObject({ before: inc!.severity, after: "Low" });
  });

  it("automation rule update: the diff and when it runs and what it does", async () => {
    const [rule] = await backend.listAutomationRules();
    const c = await approvalContext(
      approval("automationRules.update", { ruleId: rule!.id, order: rule!.order + 1 }),
      deps(),
    );
    expect(c.kind).toBe("automationRule");
    expect(c.diff).toEqual([{ field: "order", before: rule!.order, after: rule!.order + 1, change: "changed" }]);
    expect(c.affects[0]).toContain(`in order ${rule!.order}`);
    expect(c.affects[1]).toContain("actions:");
    const off = await approvalContext(
      approval("automationRules.disable", { ruleId: rule!.id, reason: "noisy" }),
      deps(),
    );
    expect(off.diff.find((d) => d.field === "enabled")).toMatchObject({ after: false });
  });

  it("watchlist item: the new values and the analytics rules that read the watchlist", async () => {
    const [wl] = await backend.listWatchlists();
    await backend.putAnalyticsRule({
      id: "11111111-2222-3333-4444-000000000001",
      displayName: "Reads the watchlist",
      enabled: true,
      severity: "Low",
      query: `SigninLogs | where IPAddress in (_GetWatchlist('${wl!.alias}') | project SearchKey)`,
      queryFrequency: "PT1H",
      queryPeriod: "PT1H",
      triggerOperator: "GreaterThan",
      triggerThreshold: 0,
      tactics: [],
    });
    const c = await approvalContext(
      approval("watchlists.items.add", { watchlistAlias: wl!.alias, values: { SearchKey: "10.0.0.1" } }),
      deps(),
    );
    expect(c.kind).toBe("watchlist");
    expect(c.diff).toEqual([{ field: "SearchKey", before: undefined, after: "10.0.0.1", change: "added" }]);
    expect(c.affects).toContain(`analytics rule "Reads the watchlist" (enabled) reads watchlist ${wl!.alias}`);
  });

  it("an object that cannot be read is reported, not fatal", async () => {
    const c = await approvalContext(
      approval("incidents.close", { incidentId: "no-such-incident", classification: "FalsePositive", comment: "x" }),
      deps(),
    );
    expect(c.errors[0]).toMatch(/^the incident: /);
    expect(c.diff.find((d) => d.field === "status")).toMatchObject({ after: "Closed" });
  });

  it("diffFields classifies every change", () => {
    expect(diffFields({ a: 1, b: [1], c: "x" }, { a: 2, b: [1], d: true })).toEqual([
      { field: "a", before: 1, after: 2, change: "changed" },
      { field: "b", before: [1], after: [1], change: "same" },
      { field: "c", before: "x", after: "x", change: "same" },
      { field: "d", before: undefined, after: true, change: "added" },
    ]);
  });
});

describe("html template", () => {
  it("escapes every interpolated string, whatever it holds (random property)", () => {
    const alphabet = `<>"'&/=;: abc\`\\\u0000\u2028`;
    for (let i = 0; i < 2000; i++) {
      let s = "";
      for (let j = 0; j < 24; j++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
      const out = html`<p title="${s}">${s}</p><td>${[s, s]}</td>`.text;
      // Only the template's own four tags and two quotes survive: nothing from `s` can open a tag or end the attribute.
      expect(out.split("<").length - 1).toBe(4);
      expect(out.split(">").length - 1).toBe(4);
      expect(out.split('"').length - 1).toBe(2);
      expect(escapeHtml(s)).not.toMatch(/[<>"']/);
    }
  });

  it("only markup the tag produced passes unescaped", () => {
    expect(html`${"<b>"}${html`<i>`}${new Markup("<u>")}`.text).toBe("&lt;b&gt;<i><u>");
    expect(html`${undefined}${null}${false}${0}`.text).toBe("0");
  });
});
