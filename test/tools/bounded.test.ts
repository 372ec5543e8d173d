import { describe, expect, it } from "vitest";
import type { Decision, KqlFacts } from "../../src/governance/decide.js";
import { GovernanceError } from "../../src/governance/errors.js";
import type { QueryTable } from "../../src/sentinel/backend.js";
import { COLUMN_MASK, checkReads, maskColumns } from "../../src/tools/kql/bounded.js";
import type { ToolContext } from "../../src/tools/types.js";

// The checks every KQL result passes before it leaves the handler: read ⊆ analysed, and lineage masking.

const facts: KqlFacts = {
  ok: true,
  diagnostics: [],
  tables: ["SigninLogs"],
  forbidden: [],
  functions: ["SigninView", "tolower"],
};
const table = (reads?: QueryTable["reads"]): QueryTable => ({
  columns: [
    { name: "u", type: "string" },
    { name: "IPAddress", type: "string" },
  ],
  rows: [
    ["adele@contoso.com", "10.0.0.1"],
    [null, "10.0.0.2"],
  ],
  ...(reads ? { reads } : {}),
});

describe("checkReads: read ⊆ analysed", () => {
  it("passes reads the analysis reported, and results without a read report (Azure)", () => {
    expect(() => checkReads(table({ tables: ["SigninLogs"], storedFunctions: ["SigninView"] }), facts)).not.toThrow();
    expect(() => checkReads(table(), facts)).not.toThrow();
  });

  it("withholds a result whose engine read a table or stored function the analysis did not report", () => {
    for (const reads of [
      { tables: ["SigninLogs", "SecurityIncident"], storedFunctions: [] },
      { tables: ["SigninLogs"], storedFunctions: ["AgentSecurityEvent"] },
    ]) {
      let err: unknown;
      try {
        checkReads(table(reads), facts);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GovernanceError);
      expect((err as GovernanceError).code).toBe("kql_read_outside_analysis");
      expect((err as GovernanceError).details).toMatchObject({ defect: true });
    }
  });

  it("fails closed when no analysis reached the handler", () => {
    expect(() => checkReads(table(), undefined)).toThrow(/no analysis/);
  });
});

describe("maskColumns", () => {
  const ctx = (masked: string[], outputColumns: string[]): ToolContext =>
    ({
      decision: {
        effect: "CONSTRAIN",
        reasons: [],
        constraints: [
          { kind: "column_redaction", columns: masked, outputColumns, redacted: ["SigninLogs.UserPrincipalName"] },
        ],
      } satisfies Decision,
      kql: {
        ...facts,
        lineage: { redactedColumns: ["SigninLogs.UserPrincipalName"], outputColumns, masked, predicates: [] },
      },
    }) as unknown as ToolContext;

  it("masks the columns lineage names and keeps the rest", () => {
    const t = table();
    expect(maskColumns(t, ctx(["u"], ["u", "IPAddress"]))).toEqual(["u"]);
    expect(t.rows).toEqual([
      [COLUMN_MASK, "10.0.0.1"],
      [null, "10.0.0.2"],
    ]);
  });

  it("masks a result column the analysis did not predict (lineage unknown means masked)", () => {
    const t = table();
    expect(maskColumns(t, ctx([], ["Column1", "IPAddress"]))).toEqual(["u"]);
    expect(t.rows[0]![0]).toBe(COLUMN_MASK);
  });

  it("does nothing without column redaction", () => {
    const t = table();
    expect(
      maskColumns(t, { decision: { effect: "ALLOW", reasons: [], constraints: [] }, kql: facts } as never),
    ).toEqual([]);
    expect(t.rows[0]![0]).toBe("adele@contoso.com");
  });
});
