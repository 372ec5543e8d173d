import { describe, expect, it } from "vitest";
import {
  type AzurePermission,
  comparePermissions,
  dangerOf,
  isAllowed,
  matchesOperation,
  type NeededOperation,
} from "../../src/rbac/effective.js";
import { KNOWN_OPERATIONS } from "../../src/rbac/operations.js";
import { mulberry32 } from "../../src/workspace/seed-determinism.js";

const rng = mulberry32;

/** The reference: a regular expression, `*` as `.*` (dotall), case-insensitive, anchored. */
const reference = (pattern: string, name: string) =>
  new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
      .join(".*")}$`,
    "is",
  ).test(name);

const RANK = { critical: 0, high: 1, medium: 2, low: 3 } as const;

describe("matching operation strings", () => {
  it("agrees with a brute-force reference over 20,000 generated patterns and names", () => {
    const r = rng(23);
    const alphabet = ["a", "B", "/", ".", "r", "*"];
    const word = (n: number, stars: boolean) =>
      Array.from({ length: n }, () => {
        const c = alphabet[Math.floor(r() * (stars ? 6 : 5))]!;
        return r() < 0.5 ? c.toLowerCase() : c.toUpperCase();
      }).join("");
    let agreeTrue = 0;
    for (let i = 0; i < 20_000; i++) {
      const name = word(Math.floor(r() * 9), false);
      // Half the patterns are mutations of the name, so matches are common enough to test.
      const pattern =
        r() < 0.5
          ? name
              .split("")
              .map((c) => (r() < 0.25 ? "*" : r() < 0.1 ? "" : c))
              .join("")
          : word(Math.floor(r() * 7), true);
      const expected = reference(pattern, name);
      expect(matchesOperation(pattern, name), `${JSON.stringify(pattern)} vs ${JSON.stringify(name)}`).toBe(expected);
      if (expected) agreeTrue++;
    }
    expect(agreeTrue).toBeGreaterThan(2_000);
  });

  it("real strings: wildcards cross /, case is ignored", () => {
    expect(matchesOperation("*", "Microsoft.SecurityInsights/incidents/write")).toBe(true);
    expect(
      matchesOperation(
        "Microsoft.SecurityInsights/*/read",
        "microsoft.securityinsights/watchlists/watchlistItems/read",
      ),
    ).toBe(true);
    expect(
      matchesOperation("Microsoft.SecurityInsights/*/read", "Microsoft.SecurityInsights/incidents/alerts/action"),
    ).toBe(false);
    expect(
      matchesOperation(
        "Microsoft.SecurityInsights/incidents/*/Delete",
        "Microsoft.SecurityInsights/incidents/comments/delete",
      ),
    ).toBe(true);
    expect(
      matchesOperation("Microsoft.SecurityInsights/incidents/*/Delete", "Microsoft.SecurityInsights/incidents/delete"),
    ).toBe(false);
  });
});

describe("what an identity may do", () => {
  const incidentsWrite = "Microsoft.SecurityInsights/incidents/write";
  it("NotActions subtract within their own entry only; entries add up", () => {
    const contributorLike: AzurePermission = { actions: ["*"], notActions: ["Microsoft.SecurityInsights/incidents/*"] };
    expect(isAllowed([contributorLike], incidentsWrite)).toBe(false);
    expect(isAllowed([contributorLike], "Microsoft.SecurityInsights/alertRules/write")).toBe(true);
    // A second role that grants it wins over the first role's NotActions (Azure's rule).
    expect(isAllowed([contributorLike, { actions: [incidentsWrite] }], incidentsWrite)).toBe(true);
    expect(isAllowed([], incidentsWrite)).toBe(false);
  });

  it("Actions do not grant DataActions, and NotDataActions subtract data actions", () => {
    const telemetry = "Microsoft.Insights/Telemetry/Write";
    expect(isAllowed([{ actions: ["*"] }], telemetry, "dataAction")).toBe(false);
    expect(isAllowed([{ dataActions: ["Microsoft.Insights/*"] }], telemetry, "dataAction")).toBe(true);
    expect(
      isAllowed(
        [{ dataActions: ["Microsoft.Insights/*"], notDataActions: ["*/Telemetry/*"] }],
        telemetry,
        "dataAction",
      ),
    ).toBe(false);
  });

  it("property: with concrete grants, missing = need − grants and excess = grants − need, exactly", () => {
    const r = rng(7);
    const universe = KNOWN_OPERATIONS.filter((o) => o.kind === "action" && !o.name.includes("*")).map((o) => o.name);
    for (let round = 0; round < 300; round++) {
      const pick = () => universe.filter(() => r() < 0.08);
      const need = pick();
      const grant = pick();
      // Grants arrive in other casings and split over several entries.
      const entries: AzurePermission[] = [{ actions: [] }, { actions: [] }];
      for (const g of grant) entries[r() < 0.5 ? 0 : 1]!.actions!.push(r() < 0.5 ? g.toUpperCase() : g);
      const needs: NeededOperation[] = need.map((n) => ({ name: n, kind: "action", tools: ["t"] }));
      const { missing, excess } = comparePermissions(entries, needs);
      const lower = (xs: string[]) => new Set(xs.map((x) => x.toLowerCase()));
      const g = lower(grant);
      const n = lower(need);
      expect(lower(missing.map((m) => m.name))).toEqual(new Set([...n].filter((x) => !g.has(x))));
      expect(lower(excess.map((x) => x.name))).toEqual(new Set([...g].filter((x) => !n.has(x))));
      for (let i = 1; i < excess.length; i++)
        expect(RANK[excess[i - 1]!.danger]).toBeLessThanOrEqual(RANK[excess[i]!.danger]);
    }
  });

  it("an identity holding exactly the need is clean; `*` is critical and first; missing names the tools", () => {
    const needs: NeededOperation[] = [
      { name: "Microsoft.SecurityInsights/incidents/read", kind: "action", tools: ["incidents.list", "incidents.get"] },
      { name: "Microsoft.SecurityInsights/incidents/write", kind: "action", tools: ["incidents.close"] },
    ];
    expect(comparePermissions([{ actions: needs.map((n) => n.name) }], needs)).toEqual({ missing: [], excess: [] });

    const owner = comparePermissions([{ actions: ["*"] }, { actions: ["Microsoft.Support/*"] }], needs);
    expect(owner.missing).toEqual([]);
    expect(owner.excess[0]).toMatchObject({ name: "*", danger: "critical" });
    expect(owner.excess[0]!.covers).toBeGreaterThan(100);

    const reader = comparePermissions([{ actions: ["Microsoft.SecurityInsights/*/read"] }], needs);
    expect(reader.missing).toEqual([
      { name: "Microsoft.SecurityInsights/incidents/write", kind: "action", tools: ["incidents.close"] },
    ]);
    // */read grants reads beyond incidents, confidential watchlists among them: medium...
    expect(reader.excess.map((x) => x.danger)).toEqual(["medium"]);
    // ...unless NotActions take those away (as Microsoft Sentinel Reader does): then only low.
    const withoutConfidential = comparePermissions(
      [
        {
          actions: ["Microsoft.SecurityInsights/*/read"],
          notActions: ["Microsoft.SecurityInsights/ConfidentialWatchlists/*"],
        },
      ],
      needs,
    );
    expect(withoutConfidential.excess.map((x) => x.danger)).toEqual(["low"]);
  });

  it("a wildcard that matches nothing we know still counts as excess when no need explains it", () => {
    const needs: NeededOperation[] = [
      { name: "Microsoft.SecurityInsights/incidents/read", kind: "action", tools: ["incidents.get"] },
    ];
    const { excess } = comparePermissions(
      [{ actions: ["Microsoft.SecurityInsights/incidents/read", "Microsoft.Compute/*"] }],
      needs,
    );
    expect(excess).toEqual([expect.objectContaining({ name: "Microsoft.Compute/*", danger: "critical", covers: 0 })]);
  });

  it("danger: role assignment and workspace keys are critical, detection changes high, other writes medium", () => {
    expect(dangerOf("Microsoft.Authorization/roleAssignments/write").danger).toBe("critical");
    expect(dangerOf("Microsoft.Authorization/*/read").danger).toBe("low");
    expect(dangerOf("Microsoft.OperationalInsights/workspaces/sharedkeys/action").danger).toBe("critical");
    expect(dangerOf("Microsoft.OperationalInsights/workspaces/purge/action").danger).toBe("critical");
    expect(dangerOf("Microsoft.SecurityInsights/alertRules/write").danger).toBe("high");
    expect(dangerOf("Microsoft.SecurityInsights/automationRules/delete").danger).toBe("high");
    expect(dangerOf("Microsoft.SecurityInsights/incidents/write").danger).toBe("medium");
    expect(dangerOf("Microsoft.SecurityInsights/incidents/read").danger).toBe("low");
  });
});
