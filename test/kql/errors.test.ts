import { describe, expect, it } from "vitest";
import { executeKql } from "../../src/kql/index.js";
import { errorOf, SRC } from "./fixtures.js";

// Unsupported or wrong queries fail with the construct named and its 1-based line/column — never a silent answer.

describe("engine errors", () => {
  it("names unsupported operators and their position", () => {
    expect(errorOf("SigninLogs\n| evaluate bag_unpack(Score)")).toMatchObject({
      code: "unsupported",
      line: 2,
      column: 3,
      message: expect.stringContaining("evaluate"),
    });
    expect(errorOf("SigninLogs | lookup kind=fullouter SecurityAlert on x")).toMatchObject({
      code: "unsupported",
      message: expect.stringContaining("lookup kind"),
    });
    expect(errorOf("SigninLogs | parse kind=regex UserPrincipalName with a b")).toMatchObject({
      code: "unsupported",
      message: expect.stringContaining("parse kind=regex"),
    });
    expect(errorOf("SigninLogs | scan with (step s: true;)")).toMatchObject({
      code: "unsupported",
      message: expect.stringContaining('"scan"'),
    });
    expect(errorOf("SigninLogs | top-nested 2 of ResultType by count()").message).toContain("top-nested");
    expect(errorOf("SigninLogs | mv-expand with_itemindex=i x")).toMatchObject({
      code: "unsupported",
      message: expect.stringContaining("with_itemindex"),
    });
    expect(errorOf("SigninLogs | join kind=weird (SecurityAlert) on x").message).toContain("weird");
  });

  it("refuses cross-resource and wildcard access, control commands and non-scalar lambdas", () => {
    expect(errorOf("externaldata(x:string)['https://e.example/x']")).toMatchObject({
      code: "unsupported",
      message: expect.stringContaining("externaldata"),
      line: 1,
      column: 1,
    });
    expect(errorOf("workspace('w').SigninLogs").message).toContain("workspace");
    expect(errorOf("cluster('c').database('d').T").message).toContain("cluster");
    expect(errorOf("union * | count").message).toContain("wildcard");
    expect(errorOf("union Sign* | count").message).toContain("wildcard");
    expect(errorOf("table(strcat('Signin', 'Logs'))").code).toBe("unsupported");
    expect(errorOf(".show tables").message).toContain("control commands");
    expect(errorOf("let f = (T:(x:long)) { T | count }; f(SigninLogs)").message).toContain("tabular parameters");
    // Tabular bodies now run (test/kql/real-content.test.ts); tabular parameters are still refused.
    expect(errorOf("let f = (T:(*)) { T | count }; f(SigninLogs)").message).toContain("tabular parameters");
    expect(errorOf("let f = (x:long) { x * 2 }; print f(1, 2)").message).toContain("f() takes 1 argument");
  });

  it("names unknown functions, aggregations out of place and bad types, with positions", () => {
    expect(errorOf("SigninLogs | extend x = dark_magic(Score)")).toMatchObject({
      code: "unsupported",
      line: 1,
      column: 25,
      message: expect.stringContaining("dark_magic"),
    });
    expect(errorOf("SigninLogs | extend x = count()").message).toContain("only valid in summarize");
    expect(errorOf("SigninLogs | summarize count() * 2").message).toContain("single aggregation call");
    expect(errorOf("SigninLogs | summarize c = stdev_of(Score)").message).toContain("stdev_of");
    expect(errorOf("SigninLogs | extend x = Score + 'a'").message).toContain("cannot combine long and string");
    expect(errorOf("print strlen()").message).toContain("strlen() takes 1 argument");
    // Kusto rejects comparisons across types instead of answering "no rows"; so does the engine (a string compared
    // with a number is read as a number, as Kusto does: test/kql/real-content.test.ts).
    expect(errorOf("SigninLogs | where TimeGenerated > '2026-01-01'").message).toContain(
      "cannot compare datetime with string",
    );
    expect(errorOf("SigninLogs | where Score").message).toContain("boolean predicate");
    expect(errorOf("SigninLogs | where Nope == 1")).toMatchObject({ code: "semantic", line: 1, column: 20 });
    expect(errorOf("Missing | take 1").message).toContain('"Missing" does not exist');
  });

  it("reports syntax errors with positions", () => {
    expect(errorOf("SigninLogs | where")).toMatchObject({ code: "syntax" });
    expect(errorOf("print 'abc")).toMatchObject({ code: "syntax", message: expect.stringContaining("unterminated") });
    expect(errorOf("SigninLogs | take 1 )")).toMatchObject({ code: "syntax", line: 1, column: 21 });
    expect(errorOf("print datetime(not a date)").message).toContain("invalid datetime");
    expect(errorOf("SigninLogs |\n  sort by Score ascending")).toMatchObject({ code: "syntax", line: 2 });
  });

  it("enforces maxResultRows", () => {
    expect(() => executeKql("SigninLogs", SRC, { maxResultRows: 2 })).toThrow(/over the limit of 2/);
  });
});
