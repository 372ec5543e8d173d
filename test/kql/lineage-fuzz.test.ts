import { afterAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../../src/workspace/seed.js";
import { breather } from "../helpers/breathe.js";
import { emptyTally, judge, REDACTED, type Run, SCHEMA } from "./lineage-harness.js";
import { deadlineAnalyzer } from "./ls-oracle.js";

// Lineage fuzzing: random pipelines over SigninLogs — several operators in a row, each computing new columns from
// earlier ones through random nests of functions (encodings included), renames, aggregations, expansions, self-joins,
// lets and predicates — run on the engine, masked as the server masks, and checked that the secret planted in the
// redacted column never comes out. Where lineage-property.test.ts walks every function in fixed placements, this
// searches the combinations. Seed: GSMCP_LINEAGE_FUZZ_SEED; time budget: GSMCP_LINEAGE_FUZZ_MS.

const BUDGET_MS = Number(process.env.GSMCP_LINEAGE_FUZZ_MS ?? (process.env.CI ? 30_000 : 5_000));
// A fixed default seed keeps CI reproducible; explore with other seeds locally.
const SEED = Number(process.env.GSMCP_LINEAGE_FUZZ_SEED ?? 20_261_201);

type Kind = "string" | "long" | "dynamic";
interface Col {
  name: string;
  kind: Kind;
}
interface Expr {
  text: string;
  kind: Kind;
}

class Gen {
  private n = 0;
  constructor(private readonly rand: () => number) {}
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  fresh(): string {
    return `c${this.n++}`;
  }

  /** A random expression over the columns, of any kind, up to `depth` calls deep. */
  expr(cols: Col[], depth: number): Expr {
    const leafs = cols.map((c) => ({ text: c.name, kind: c.kind }) as Expr);
    if (depth <= 0 || this.chance(0.25)) return this.chance(0.1) ? this.pick(CONSTANTS) : this.pick(leafs);
    const s = () => this.asString(this.expr(cols, depth - 1));
    const d = () => this.asDynamic(this.expr(cols, depth - 1));
    const l = () => this.asLong(this.expr(cols, depth - 1));
    const make: (() => Expr)[] = [
      () => ({ text: `tolower(${s()})`, kind: "string" }),
      () => ({ text: `toupper(${s()})`, kind: "string" }),
      () => ({ text: `reverse(${s()})`, kind: "string" }),
      () => ({ text: `base64_encode_tostring(${s()})`, kind: "string" }),
      () => ({ text: `base64_decode_tostring(${s()})`, kind: "string" }),
      () => ({ text: `url_encode(${s()})`, kind: "string" }),
      () => ({ text: `url_decode(${s()})`, kind: "string" }),
      () => ({ text: `strcat(${s()}, '-', ${s()})`, kind: "string" }),
      () => ({ text: `substring(${s()}, ${this.pick(["0", "1", "3"])})`, kind: "string" }),
      () => ({ text: `replace_string(${s()}, '@', '#')`, kind: "string" }),
      () => ({ text: `trim('@', ${s()})`, kind: "string" }),
      () => ({ text: `extract('([A-Za-z0-9]+)', 1, ${s()})`, kind: "string" }),
      () => ({ text: `replace_regex(${s()}, '(.)', @'\\1.')`, kind: "string" }),
      () => ({ text: `strcat_array(${d()}, '')`, kind: "string" }),
      () => ({ text: `unicode_codepoints_to_string(${d()})`, kind: "string" }),
      () => ({ text: `iff(${l()} > 1, ${s()}, ${s()})`, kind: "string" }),
      () => ({ text: `case(${l()} == 1, ${s()}, ${s()})`, kind: "string" }),
      () => ({ text: `coalesce(${s()}, 'z')`, kind: "string" }),
      () => ({ text: `tostring(${d()})`, kind: "string" }),
      () => ({ text: `strlen(${s()})`, kind: "long" }),
      () => ({ text: `indexof(${s()}, 'x')`, kind: "long" }),
      () => ({ text: `(${l()} + 1)`, kind: "long" }),
      () => ({ text: `array_length(${d()})`, kind: "long" }),
      () => ({ text: `split(${s()}, '')`, kind: "dynamic" }),
      () => ({ text: `split(${s()}, '@')`, kind: "dynamic" }),
      () => ({ text: `unicode_codepoints_from_string(${s()})`, kind: "dynamic" }),
      () => ({ text: `pack('k', ${s()})`, kind: "dynamic" }),
      () => ({ text: `bag_pack('k', ${s()}, 'n', ${l()})`, kind: "dynamic" }),
      () => ({ text: `pack_array(${s()}, ${s()})`, kind: "dynamic" }),
      () => ({ text: `parse_json(tostring(${d()}))`, kind: "dynamic" }),
      () => ({ text: `todynamic(strcat('["', ${s()}, '"]'))`, kind: "dynamic" }),
      () => ({ text: `${d()}[0]`, kind: "dynamic" }),
      () => ({ text: `${d()}.k`, kind: "dynamic" }),
      () => ({ text: `bag_keys(${d()})`, kind: "dynamic" }),
    ];
    return this.pick(make)();
  }
  asString(e: Expr): string {
    return e.kind === "string" ? e.text : `tostring(${e.text})`;
  }
  asDynamic(e: Expr): string {
    return e.kind === "dynamic" ? e.text : `pack_array(${e.text})`;
  }
  asLong(e: Expr): string {
    return e.kind === "long" ? e.text : e.kind === "string" ? `strlen(${e.text})` : `array_length(${e.text})`;
  }

  /** One pipeline step: its text and the columns after it. */
  step(cols: Col[]): { text: string; cols: Col[] } {
    const strings = cols.filter((c) => c.kind === "string");
    const dynamics = cols.filter((c) => c.kind === "dynamic");
    const steps: (() => { text: string; cols: Col[] } | undefined)[] = [
      () => {
        const name = this.fresh();
        const e = this.expr(cols, 3);
        return {
          text: `extend ${name} = ${e.text}`,
          cols: [...cols.filter((c) => c.name !== name), { name, kind: e.kind }],
        };
      },
      () => {
        const keep = cols.filter(() => this.chance(0.6));
        const name = this.fresh();
        const e = this.expr(cols, 2);
        const out = [...keep, { name, kind: e.kind }];
        return { text: `project ${[...keep.map((c) => c.name), `${name} = ${e.text}`].join(", ")}`, cols: out };
      },
      () => {
        const c = this.pick(cols);
        const name = this.fresh();
        return {
          text: `project-rename ${name} = ${c.name}`,
          cols: cols.map((x) => (x === c ? { name, kind: c.kind } : x)),
        };
      },
      () => {
        const key = this.pick(cols.filter((c) => c.kind !== "dynamic").concat(cols.slice(0, 1)));
        const v = this.pick(cols);
        const a = this.fresh();
        const agg = this.pick([
          [`make_list(${v.name})`, "dynamic"],
          [`make_set(${v.name})`, "dynamic"],
          [`take_any(${v.name})`, v.kind],
          [`count()`, "long"],
          [`dcount(${v.name})`, "long"],
          [`max(${this.asLong({ text: v.name, kind: v.kind })})`, "long"],
        ] as const);
        if (key.kind === "dynamic") return undefined;
        return {
          text: `summarize ${a} = ${agg[0]} by ${key.name}`,
          cols: [key, { name: a, kind: agg[1] }],
        };
      },
      () => {
        if (!dynamics.length) return undefined;
        const d = this.pick(dynamics);
        return { text: `mv-expand ${d.name}`, cols };
      },
      () => {
        if (!strings.length) return undefined;
        const s = this.pick(strings);
        const a = this.fresh();
        const b = this.fresh();
        return {
          text: `parse ${s.name} with ${a} '@' ${b}`,
          cols: [...cols, { name: a, kind: "string" as const }, { name: b, kind: "string" as const }],
        };
      },
      () => ({ text: `where ${this.asLong(this.expr(cols, 2))} >= 0`, cols }),
      () => ({ text: `top 5 by ${this.asLong(this.expr(cols, 1))}`, cols }),
      () => ({ text: `take 10`, cols }),
      () => {
        if (!cols.some((c) => c.name === "Id")) return undefined;
        // A right-side column named like a left one comes out renamed (UserPrincipalName1): lineage must follow.
        const clash = cols.find((c) => c.name === "UserPrincipalName" || c.name === "IPAddress");
        if (clash && this.chance(0.5))
          return {
            text: `join kind=inner (SigninLogs | project Id, ${clash.name}) on Id`,
            cols: [
              ...cols,
              { name: "Id1", kind: "long" as const },
              { name: `${clash.name}1`, kind: "string" as const },
            ],
          };
        const name = this.fresh();
        const e = this.expr(SIGNIN_COLS, 2);
        return {
          text: `join kind=inner (SigninLogs | project Id, ${name} = ${e.text}) on Id`,
          cols: [...cols, { name, kind: e.kind }, { name: "Id1", kind: "long" }],
        };
      },
      () => {
        const name = this.fresh();
        return { text: `extend ${name} = pack_all()`, cols: [...cols, { name, kind: "dynamic" }] };
      },
      () => {
        // Window functions read other rows' values. The rows are serialized first (serialize, or a sort), and the
        // expression goes into a column first (prev/next take a column, as the language service requires); then
        // prev/next of it (with an offset and a default), a row_cumsum over it, or a row_number restarting on it.
        const order = this.pick(cols.filter((c) => c.kind !== "dynamic").concat(cols.slice(0, 1)));
        if (order.kind === "dynamic") return undefined;
        const pre = this.fresh();
        const name = this.fresh();
        const e = this.expr(cols, 2);
        const offset = this.pick(["1", "2", "5"]);
        const byString = this.chance(0.5);
        const preExpr = byString ? this.asString(e) : this.asLong(e);
        const call = byString
          ? this.pick([`prev(${pre}, ${offset}, 'd')`, `next(${pre}, ${offset})`])
          : this.pick([`row_cumsum(${pre})`, `row_number(0, ${pre} > 1)`, `prev(${pre}, ${offset})`]);
        const serialize = this.chance(0.5) ? "serialize" : `sort by ${order.name} asc`;
        const kind = byString ? "string" : "long";
        return {
          text: `extend ${pre} = ${preExpr} | ${serialize} | extend ${name} = ${call}`,
          cols: [...cols.filter((c) => c.name !== pre && c.name !== name), { name: pre, kind }, { name, kind }],
        };
      },
    ];
    for (;;) {
      const s = this.pick(steps)();
      if (s) return s;
    }
  }

  query(): string {
    let cols = SIGNIN_COLS;
    const parts = ["SigninLogs"];
    const n = 1 + Math.floor(this.rand() * 4);
    for (let i = 0; i < n; i++) {
      const s = this.step(cols);
      parts.push(s.text);
      cols = s.cols;
    }
    const body = parts.join(" | ");
    // Sometimes through a let, sometimes a stored-function-like tabular let, sometimes a scalar let.
    if (this.chance(0.15)) return `let Q = ${body}; Q`;
    if (this.chance(0.1)) return `let v = toscalar(${body} | take 1); print v`;
    return body;
  }
}

const SIGNIN_COLS: Col[] = [
  { name: "UserPrincipalName", kind: "string" },
  { name: "IPAddress", kind: "string" },
  { name: "Id", kind: "long" },
];
const CONSTANTS: Expr[] = [
  { text: "'a@b'", kind: "string" },
  { text: "2", kind: "long" },
  { text: "dynamic(['x'])", kind: "dynamic" },
];

describe("lineage fuzz: random pipelines never hand out a redacted value", () => {
  // Analyses on the server's analyzer worker with a deadline (see deadlineAnalyzer): a query past it, or one the
  // service throws on, is refused by the server before anything runs: counted, never a leak.
  const analyzer = deadlineAnalyzer(SCHEMA);
  afterAll(() => analyzer.close());

  async function run(q: string): Promise<Run> {
    const a = await analyzer.analyze(q, { redactedColumns: REDACTED });
    if (a === "timeout") return { outcome: "analysis-timeout", ungovernedLeaked: false };
    if (a === "error") return { outcome: "not-analysable", ungovernedLeaked: false };
    return judge(q, a);
  }

  it(`holds for random pipelines (seed ${SEED}, ${BUDGET_MS} ms)`, { timeout: BUDGET_MS + 120_000 }, async () => {
    const breathe = breather();
    const gen = new Gen(mulberry32(SEED));
    const tally = emptyTally();
    await analyzer.analyze("print 1"); // load the language service outside the budget
    let queries = 0;
    let ungovernedLeaks = 0;
    // Queries with a window function whose ungoverned run returned the secret: the step reaches it from other rows.
    let windowLeaks = 0;
    // Queries whose analysis passed the deadline (the server refuses them): printed, to report to the service.
    const timedOut: string[] = [];
    const deadline = Date.now() + BUDGET_MS;
    while (Date.now() < deadline) {
      await breathe();
      const q = gen.query();
      queries++;
      let r: Run;
      try {
        r = await run(q);
      } catch (e) {
        throw new Error(`seed ${SEED}, query ${queries}: ${(e as Error).message}`);
      }
      tally[r.outcome]++;
      if (r.outcome === "analysis-timeout" && timedOut.length < 3) timedOut.push(q);
      if (r.ungovernedLeaked) ungovernedLeaks++;
      if (r.ungovernedLeaked && /\b(prev|next|row_cumsum|row_number)\(/.test(q)) windowLeaks++;
    }
    console.log(
      `lineage fuzz (seed ${SEED}): ${queries} queries ${JSON.stringify(tally)}; ungoverned runs that returned the secret: ${ungovernedLeaks} (${windowLeaks} through a window function)`,
    );
    for (const q of timedOut) console.log(`analysis passed its ${analyzer.deadlineMs} ms deadline (refused): ${q}`);
    // The generator reaches the engine and the secret: without masking many of these queries would leak it.
    expect(tally["masked-clean"]).toBeGreaterThan(queries * 0.3);
    expect(ungovernedLeaks).toBeGreaterThan(tally["masked-clean"] * 0.1);
    expect(windowLeaks).toBeGreaterThan(0);
  });
});
