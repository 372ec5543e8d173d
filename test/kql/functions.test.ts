import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { H, NOW, rows, run } from "./fixtures.js";

// Each expectation is computed by hand (or by plain JS, e.g. Date.UTC) — never by the engine.
const one = (expr: string) => rows(`print v = ${expr}`)[0]![0];
const count = (pred: string) => rows(`SigninLogs | where ${pred} | count`)[0]![0];

describe("string predicates (Kusto semantics)", () => {
  it("has is whole-term and case-insensitive; contains is a case-insensitive substring", () => {
    expect(one("'user adele@contoso.com' has 'ADELE'")).toBe(true);
    expect(one("'user adele@contoso.com' has 'contoso.com'")).toBe(true);
    expect(one("'user adele@contoso.com' has 'ontoso'")).toBe(false);
    expect(one("'user adele@contoso.com' contains 'ONTOSO'")).toBe(true);
    expect(one("'user adele@contoso.com' !has 'ontoso'")).toBe(true);
    expect(one("'user adele@contoso.com' !contains 'ONTOSO'")).toBe(false);
    expect(one("'Hello' has_cs 'hello'")).toBe(false);
    expect(one("'Hello' contains_cs 'ell'")).toBe(true);
    expect(one("'user adele@contoso.com' hasprefix 'cont'")).toBe(true);
    expect(one("'user adele@contoso.com' hassuffix 'oso'")).toBe(true);
  });

  it("startswith / endswith, ==, =~, !~, in, !in, in~, !in~, has_any, has_all, matches regex, between", () => {
    expect(count("IPAddress startswith '10.'")).toBe(2);
    expect(count("UserPrincipalName endswith 'CONTOSO.COM'")).toBe(5);
    expect(count("UserPrincipalName !startswith 'a'")).toBe(1);
    expect(count("UserPrincipalName == 'adele@contoso.com'")).toBe(2);
    expect(count("UserPrincipalName =~ 'ADELE@contoso.com'")).toBe(3);
    expect(count("UserPrincipalName !~ 'ADELE@contoso.com'")).toBe(2);
    expect(count("UserPrincipalName in ('adele@contoso.com', 'diego@contoso.com')")).toBe(3);
    expect(count("UserPrincipalName !in ('adele@contoso.com')")).toBe(3);
    expect(count("UserPrincipalName in~ ('ADELE@CONTOSO.COM')")).toBe(3);
    expect(count("UserPrincipalName !in~ ('ADELE@CONTOSO.COM')")).toBe(2);
    expect(count("UserPrincipalName has_any ('alex', 'diego')")).toBe(2);
    expect(count("UserPrincipalName has_all ('adele', 'contoso')")).toBe(3);
    expect(count("IPAddress matches regex @'^10\\.0\\.0\\.[45]$'")).toBe(2);
    expect(count("Score between (3 .. 5)")).toBe(2);
    expect(count("Score !between (3 .. 5)")).toBe(2); // the null score is in neither
    expect(rows("let l = dynamic(['alex@contoso.com']); SigninLogs | where UserPrincipalName in (l) | count")).toEqual([
      [1],
    ]);
  });
});

describe("string functions", () => {
  it("build, cut and search strings", () => {
    expect(one("strcat('a', 1, true, 2.5)")).toBe("a1true2.5");
    expect(one("strcat_delim('-', 'a', 'b')")).toBe("a-b");
    expect(one("strlen('héllo')")).toBe(5);
    expect(one("substring('abcdef', 2, 3)")).toBe("cde");
    expect(one("substring('abcdef', 4)")).toBe("ef");
    expect(one("toupper('aB')")).toBe("AB");
    expect(one("tolower('aB')")).toBe("ab");
    expect(one("trim(' ', '  x  ')")).toBe("x");
    expect(one("trim_start('a', 'aaxa')")).toBe("xa");
    expect(one("trim_end('a', 'aaxa')")).toBe("aax");
    expect(one("split('a,b,c', ',')")).toEqual(["a", "b", "c"]);
    expect(one("split('a,b,c', ',', 1)")).toEqual(["b"]);
    expect(one("replace_string('aXbX', 'X', '-')")).toBe("a-b-");
    expect(one("replace_regex('a1b22', @'\\d+', '#')")).toBe("a#b#");
    expect(one("replace_regex('ab', @'(a)(b)', @'\\2\\1')")).toBe("ba");
    expect(one("extract(@'(\\d+)\\.(\\d+)', 2, 'v 10.25')")).toBe("25");
    expect(one("extract(@'x(\\d)', 1, 'none')")).toBe(null);
    expect(one("indexof('abc', 'c')")).toBe(2);
    expect(one("hash_sha256('abc')")).toBe(createHash("sha256").update("abc").digest("hex"));
  });
});

describe("conversions and logic", () => {
  it("to* conversions, null for what does not convert", () => {
    expect(one("toint('42')")).toBe(42);
    expect(one("toint('x')")).toBe(null);
    expect(one("toint('')")).toBe(null);
    expect(one("tolong(3.9)")).toBe(3);
    expect(one("todouble('2.5')")).toBe(2.5);
    expect(one("toreal(2)")).toBe(2);
    expect(one("tobool('TRUE')")).toBe(true);
    expect(one("todatetime('2026-03-01 10:00:00')")).toBe(Date.UTC(2026, 2, 1, 10));
    expect(one("totimespan('01:30:00')")).toBe(90 * 60_000);
    expect(one("tostring(datetime(2026-03-01))")).toBe("2026-03-01T00:00:00Z");
    expect(one("tostring(90m)")).toBe("01:30:00");
    expect(one("tostring(1d + 2s)")).toBe("1.00:00:02");
    expect(one("tostring(dynamic({'a': 1}))")).toBe('{"a":1}');
    expect(one("tostring(17)")).toBe("17");
  });

  it("iff / iif / case / coalesce / isempty / isnull / round / abs / integer division", () => {
    expect(rows("SigninLogs | project v = iff(Score > 4, 'hi', 'lo')").map((r) => r[0])).toEqual([
      "lo",
      "hi",
      "hi",
      "lo",
      "lo",
    ]);
    expect(one("iif(false, 1, 2)")).toBe(2);
    expect(rows("SigninLogs | project case(Score > 6, 'a', Score > 2, 'b', 'c')").map((r) => r[0])).toEqual([
      "b",
      "b",
      "a",
      "c",
      "c",
    ]);
    expect(one("coalesce('', 'b')")).toBe("b");
    expect(rows("SigninLogs | where isnull(Score) | count")).toEqual([[1]]);
    expect(rows("SigninLogs | where isnotnull(Score) | count")).toEqual([[4]]);
    expect(one("isempty('')")).toBe(true);
    expect(one("isnotempty('a')")).toBe(true);
    expect(one("round(2.567, 2)")).toBe(2.57);
    expect(one("round(2.5)")).toBe(3);
    expect(one("abs(-3)")).toBe(3);
    expect(one("7 / 2")).toBe(3); // long / long is integer division
    expect(one("7.0 / 2")).toBe(3.5);
    expect(one("7 % 3")).toBe(1);
    expect(one("-(2 + 3) * 2")).toBe(-10);
    expect(one("max_of(1, 5, 3)")).toBe(5);
  });
});

describe("time", () => {
  it("ago / now / literals / arithmetic", () => {
    expect(one("ago(1h)")).toBe(NOW - H);
    expect(one("now()")).toBe(NOW);
    expect(one("now(-1d)")).toBe(NOW - 24 * H);
    expect(one("datetime(2026-03-01) + 1d")).toBe(Date.UTC(2026, 2, 2));
    expect(one("datetime(2026-03-02) - datetime(2026-03-01)")).toBe(24 * H);
    expect(one("1d / 1h")).toBe(24);
    expect(one("2 * 1h")).toBe(2 * H);
    expect(one("1h * 2")).toBe(2 * H);
    expect(one("10ms + 30s + 5m")).toBe(10 + 30_000 + 300_000);
    expect(one("time(1.02:03:04)")).toBe(24 * H + 2 * H + 3 * 60_000 + 4000);
    expect(one("timespan(2h)")).toBe(2 * H);
    expect(one("1.5h")).toBe(1.5 * H);
    expect(one("datetime(2026-03-01T10:00:00+02:00)")).toBe(Date.UTC(2026, 2, 1, 8));
    expect(run("print v = datetime(2026-03-02) - datetime(2026-03-01)").columns[0]!.type).toBe("timespan");
  });

  it("bin / floor / startof* / dayofweek / hourofday / format_datetime", () => {
    expect(one("bin(datetime(2026-03-01T10:47:00Z), 15m)")).toBe(Date.UTC(2026, 2, 1, 10, 45));
    expect(one("floor(17, 5)")).toBe(15);
    expect(one("bin(-1, 5)")).toBe(-5);
    expect(one("startofday(datetime(2026-03-04T13:00:00Z))")).toBe(Date.UTC(2026, 2, 4));
    expect(one("startofweek(datetime(2026-03-04T13:00:00Z))")).toBe(Date.UTC(2026, 2, 1)); // a Sunday
    expect(one("startofmonth(datetime(2026-03-04T13:00:00Z))")).toBe(Date.UTC(2026, 2, 1));
    expect(one("dayofweek(datetime(2026-03-04))")).toBe(3 * 24 * H);
    expect(one("hourofday(datetime(2026-03-04T13:10:00Z))")).toBe(13);
    expect(one("format_datetime(datetime(2026-03-01T09:05:07Z), 'yyyy-MM-dd HH:mm:ss')")).toBe("2026-03-01 09:05:07");
  });
});

describe("dynamic values", () => {
  it("literals, parse_json, member access, arrays and bags", () => {
    const j = 'parse_json(\'{"a":{"b":[1,2]},"k":"v"}\')';
    expect(one(`${j}.a.b[1]`)).toBe(2);
    expect(one(`${j}['a']['b'][-1]`)).toBe(2);
    expect(one(`${j}.missing`)).toBe(null);
    expect(one(`array_length(${j}.a.b)`)).toBe(2);
    expect(one(`bag_keys(${j})`)).toEqual(["a", "k"]);
    expect(one("pack_array(1, 'x')")).toEqual([1, "x"]);
    expect(one("bag_pack('a', 1, 'b', 'x')")).toEqual({ a: 1, b: "x" });
    expect(one("set_has_element(dynamic([1,2]), 2)")).toBe(true);
    expect(one('dynamic({"x": [true, null, -1.5]})')).toEqual({ x: [true, null, -1.5] });
    expect(one("array_length('not an array')")).toBe(null);
    // String operators see a dynamic value's JSON text.
    expect(one("dynamic({'user': 'Adele'}) has 'adele'")).toBe(true);
    expect(one("dynamic(['a', 'b']) contains '\"b\"'")).toBe(true);
    expect(rows("SecurityAlert | where tostring(Entities[0].Type) == 'ip' | project AlertName")).toEqual([
      ["Impossible travel"],
    ]);
  });
});

describe("let-bound scalar functions", () => {
  it("inline with their arguments, see query lets, and nest", () => {
    expect(rows("let f = (x:long) { x * 2 }; print f(21)")).toEqual([[42]]);
    expect(rows("let k = 10; let f = (x:long, y:long) { x + y + k }; print f(1, 2)")).toEqual([[13]]);
    expect(rows("let f = (x:long) { x + 1 }; let g = (x:long) { f(x) * 3 }; print g(1)")).toEqual([[6]]);
    expect(rows("let hi = (s:long) { s > 4 }; SigninLogs | where hi(Score) | count")).toEqual([[2]]);
    expect(
      rows(
        "let dom = (u:string) { tostring(split(u, '@')[1]) }; SigninLogs | summarize count() by d = tolower(dom(UserPrincipalName))",
      ),
    ).toEqual([["contoso.com", 5]]);
  });
});
