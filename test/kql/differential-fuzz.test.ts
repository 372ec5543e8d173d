import { afterAll, describe, expect, it } from "vitest";
import { executeKql } from "../../src/kql/engine.js";
import { mulberry32 } from "../../src/workspace/seed.js";
import { breather } from "../helpers/breathe.js";
import { deadlineAnalyzer, makeSource, SCHEMA } from "./ls-oracle.js";

// Differential fuzzing of the engine against the policy analyzer (Microsoft's Kusto language service): whenever the
// engine runs a query, everything it read must be something the analyzer said the query reads, whether or not the
// analyzer found the query clean. Queries come from a grammar (quoting forms, escapes, comments, Unicode tricks, lets,
// unions, tabular functions, table(), view, materialize, toscalar, join/lookup, in (subquery), stored functions) and
// from mutating a seed corpus. Seed: GSMCP_FUZZ_SEED; time budget: GSMCP_FUZZ_MS.

const BUDGET_MS = Number(process.env.GSMCP_FUZZ_MS ?? (process.env.CI ? 60_000 : 8_000));
const SEED = Number(process.env.GSMCP_FUZZ_SEED ?? 0x5eed_2026);

const SEEDS = [
  "SecurityAlert | take 1",
  "AuditLogs | where Name != '' | count",
  "let T = SecurityAlert; T | take 1",
  "let T = (SigninLogs | where Id > 1); T | summarize count() by Name",
  "let hidden = AgentEvent_CL; AuditLogs | union hidden",
  "union AuditLogs, SigninLogs, Heartbeat | count",
  "union (AuditLogs | take 1), (union Heartbeat, (SigninLogs | take 1))",
  "union withsource=T AuditLogs, SigninLogs | summarize count() by T",
  "AuditLogs | join kind=inner (SigninLogs) on $left.Name == $right.Name",
  "AuditLogs | lookup (Heartbeat | project Id, X = 1) on Id",
  "table('SigninLogs') | take 1",
  'table("AuditLogs") | count',
  "AgentEvent | take 5",
  "AgentEvent() | count",
  "Alerts2 | count",
  "['AuditLogs'] | take 1",
  '["Heartbeat"] | where Id > 0',
  "AuditLogs | project Name, ['x\\'] = 1 | union SecurityAlert | extend y = '] = 1 //'",
  "AuditLogs | extend y = @'a'' | union SecurityAlert | extend z = '",
  "AuditLogs // | union SecurityAlert\n| count",
  "AuditLogs | extend s = ```| union SecurityAlert``` | count",
  "AuditLogs | where Name matches regex '(a+)+$' | count",
  "AuditLogs | where Id in ((SecurityAlert | project Id)) | count",
  "let s = toscalar(SecurityAlert | count); AuditLogs | extend s",
  "let m = materialize(SecurityAlert); m | count",
  "let v = view () { SecurityAlert }; v | count",
  "let f = () { SecurityAlert | take 1 }; f()",
  "let g = (n:string) { AuditLogs | where Name == n }; g('x')",
  "AuditLogs | mv-expand d = pack_array(Id, 2) | count",
  "AuditLogs | parse Name with a '-' b | project a, b",
  "print x = h'secret', y = @'C:\\temp', z = \"q\\\"uote\"",
  "datatable(Name:string)['a', 'b'] | union AuditLogs | count",
  "range x from 1 to 3 step 1 | join kind=leftouter (AuditLogs | project x = Id) on x",
];

const TABLES = ["SecurityAlert", "AuditLogs", "SigninLogs", "Heartbeat", "AgentEvent_CL", "AgentEvent", "Alerts2"];
/** Look-alikes: Cyrillic е, zero-width space/joiner, RTL mark, BOM, full-width S. */
const TRICKS = ["\u0435", "\u200b", "\u200d", "\u200f", "\u202e", "\ufeff", "\uff33", "\u00a0", "\u2028"];

class Gen {
  constructor(private readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }

  /** Some text to hide in strings, names and comments: it looks like query text. */
  payload(): string {
    return this.pick([
      "| union SecurityAlert",
      "'] | union SecurityAlert | where ['",
      "\\'",
      "\\\\",
      "''",
      '"',
      "//",
      "\n",
      "]",
      "```",
      "table('SecurityAlert')",
      this.pick(TRICKS),
      "x",
      "",
    ]);
  }

  /** A string literal in one of Kusto's quoting forms, escapes included. */
  str(content = this.payload()): string {
    const esc = (s: string, q: string) => s.replace(/\\/g, "\\\\").replace(new RegExp(q, "g"), `\\${q}`);
    switch (this.int(8)) {
      case 0:
        return `'${esc(content, "'")}'`.replace(/\n/g, "\\n");
      case 1:
        return `"${esc(content, '"')}"`.replace(/\n/g, "\\n");
      case 2:
        return `@'${content.replace(/'/g, "''")}'`.replace(/\n/g, "");
      case 3:
        return `h'${esc(content, "'")}'`.replace(/\n/g, "\\n");
      case 4:
        return `H@"${content.replace(/"/g, '""')}"`.replace(/\n/g, "");
      case 5:
        return content.includes("```") ? "'x'" : `\`\`\`${content}\`\`\``;
      case 6:
        return `'${content}'`; // raw: may break the literal on purpose
      default:
        return `'a' ${this.str()}`;
    }
  }

  tableRef(scope: string[]): string {
    const name = this.chance(0.2) && scope.length ? this.pick(scope) : this.pick(TABLES);
    switch (this.int(10)) {
      case 0:
        return `['${name}']`;
      case 1:
        return `["${name}"]`;
      case 2:
        return `[@'${name}']`;
      case 3:
        return `table('${name}')`;
      case 4:
        return `table("${name}")`;
      case 5:
        return `['${name.slice(0, 3)}' '${name.slice(3)}']`;
      case 6:
        return this.chance(0.5) ? name.replace("e", this.pick(TRICKS)) : `${name}()`;
      default:
        return name;
    }
  }

  scalar(depth: number): string {
    switch (this.int(depth > 2 ? 4 : 9)) {
      case 0:
        return this.str();
      case 1:
        return "Id";
      case 2:
        return `strcat(Name, ${this.str()})`;
      case 3:
        return `${this.int(5)}`;
      case 4:
        return `toscalar(${this.tabular(depth + 1, [])} | count)`;
      case 5:
        return `iff(Name has ${this.str()}, 1, 2)`;
      case 6:
        return `extract(${this.str("(a+)+$")}, 0, Name)`;
      case 7:
        return `replace_regex(Name, ${this.str("a|b")}, ${this.str()})`;
      default:
        return `dynamic(['${this.payload().replace(/['\\\n]/g, "")}'])`;
    }
  }

  op(depth: number, scope: string[]): string {
    switch (this.int(depth > 2 ? 9 : 14)) {
      case 0:
        return "where Id > 0";
      case 1:
        return `where Name != ${this.str()}`;
      case 2:
        return `extend x = ${this.scalar(depth)}`;
      case 3:
        return `project Name, Id, ['${this.payload().replace(/'/g, "\\'")}'] = 1`;
      case 4:
        return "take 3";
      case 5:
        return "summarize count() by Name";
      case 6:
        return `where Name matches regex ${this.str("(a|aa)*c")}`;
      case 7:
        return "mv-expand v = pack_array(Id, 1)";
      case 8:
        return `extend c = 1 // ${this.payload().replace(/\n/g, "")}\n`;
      case 9:
        return `union ${this.tableRef(scope)}`;
      case 10:
        return `join kind=${this.pick(["inner", "leftouter", "innerunique", "leftanti"])} (${this.tabular(depth + 1, scope)}) on Id`;
      case 11:
        return `lookup (${this.tabular(depth + 1, scope)} | project Id, L = Name) on Id`;
      case 12:
        return `where Id in ((${this.tabular(depth + 1, scope)} | project Id))`;
      default:
        return `union (${this.tabular(depth + 1, scope)}), ${this.tableRef(scope)}`;
    }
  }

  tabular(depth: number, scope: string[]): string {
    let src: string;
    switch (this.int(depth > 2 ? 3 : 6)) {
      case 3:
        src = `union ${this.tableRef(scope)}, (${this.tabular(depth + 1, scope)})`;
        break;
      case 4:
        src = `(${this.tabular(depth + 1, scope)})`;
        break;
      case 5:
        src = `materialize(${this.tableRef(scope)})`;
        break;
      default:
        src = this.tableRef(scope);
    }
    const ops: string[] = [];
    for (let n = this.int(3); n > 0; n--) ops.push(this.op(depth, scope));
    return [src, ...ops].join(" | ");
  }

  query(): string {
    const lets: string[] = [];
    const scope: string[] = [];
    for (let n = this.int(3); n > 0; n--) {
      const name = `L${lets.length}`;
      const body = this.tabular(1, scope);
      lets.push(
        this.pick([
          `let ${name} = ${body};`,
          `let ${name} = (${body});`,
          `let ${name} = () { ${body} };`,
          `let ${name} = view () { ${body} };`,
          `let ${name} = materialize(${body});`,
          `let ${name} = (x:string) { ${body} | where Name != x };`,
          `let ${name} = toscalar(${body} | count);`,
        ]),
      );
      scope.push(this.chance(0.5) ? name : `${name}()`);
    }
    return `${lets.join(this.pick([" ", "\n", " // c\n"]))} ${this.tabular(0, scope)}`.trim();
  }

  /** Small edits that stress the lexer: quotes, escapes, brackets, comments, line breaks, invisible characters. */
  mutate(q: string): string {
    let s = q;
    for (let n = 1 + this.int(3); n > 0; n--) {
      // Half the edits land on a space, i.e. between tokens, where they keep the query lexically valid more often.
      const spaces = [...s.matchAll(/ /g)].map((m) => m.index);
      const at = spaces.length && this.chance(0.5) ? this.pick(spaces) : this.int(s.length + 1);
      switch (this.int(9)) {
        case 6:
          s = `${s.slice(0, at)} //${this.payload().replace(/[\r\n\u2028\u2029]/g, "")}${this.pick(["\n", "\r", "\r\n", "\u2028"])}${s.slice(at)}`;
          break;
        case 8: {
          // Keywords are case-sensitive in Kusto: LET, Union, JOIN are names there.
          const words = [...s.matchAll(/[a-z]+/g)];
          if (words.length) {
            const w = this.pick(words);
            const up = this.chance(0.5) ? w[0].toUpperCase() : w[0][0]!.toUpperCase() + w[0].slice(1);
            s = s.slice(0, w.index) + up + s.slice(w.index + w[0].length);
          }
          break;
        }
        case 7:
          s =
            s.slice(0, at) +
            this.pick(["\u200b", "\u00a0", "\ufeff", "\t", "\f", "\u3000", "\v", "\u0085"]) +
            s.slice(at);
          break;
        case 0:
          s =
            s.slice(0, at) +
            this.pick(["'", '"', "\\", "[", "]", "@", "h", "//", "\n", "\r", "`", "~", "(", ")", "|"]) +
            s.slice(at);
          break;
        case 1:
          s = s.slice(0, at) + this.payload() + s.slice(at);
          break;
        case 2:
          s = s.slice(0, at) + s.slice(at + 1 + this.int(4));
          break;
        case 3:
          s = s.slice(0, at) + this.pick(TRICKS) + s.slice(at);
          break;
        case 4:
          s = s.slice(0, at) + s.slice(at).replace(/['"]/, (m) => (m === "'" ? '"' : "'"));
          break;
        default:
          s = `${s.slice(0, at)} ${this.str()} ${s.slice(at)}`;
      }
    }
    return s;
  }
}

describe("differential fuzz: engine reads ⊆ analyzer tables", () => {
  // Analyses on the server's analyzer worker with a deadline (see deadlineAnalyzer): a query past it, or one the
  // service throws on, is refused by the server before anything runs: counted, never a violation.
  const analyzer = deadlineAnalyzer(SCHEMA);
  afterAll(() => analyzer.close());

  it(
    `holds for generated and mutated queries (seed ${SEED}, ${BUDGET_MS} ms)`,
    async () => {
      const breathe = breather();
      const gen = new Gen(mulberry32(SEED));
      const source = makeSource();
      await analyzer.analyze("print 1"); // load the language service outside the budget
      const stats = {
        queries: 0,
        engineError: 0,
        analyzerOk: 0,
        analyzerNotOk: 0,
        analyzerTimeout: 0,
        analyzerError: 0,
        readForbidden: 0,
      };
      const timedOut: string[] = [];
      const violations: string[] = [];
      const corpus = [...SEEDS];
      const deadline = Date.now() + BUDGET_MS;
      while (Date.now() < deadline && violations.length < 5) {
        await breathe();
        const n = stats.queries++;
        const q = n < SEEDS.length ? SEEDS[n]! : gen.chance(0.5) ? gen.query() : gen.mutate(gen.pick(corpus));
        let reads: { tables: string[]; storedFunctions: string[] };
        try {
          reads = executeKql(q, source, { maxIntermediateRows: 20_000, now: 1_700_000_100_000 }).reads;
        } catch {
          stats.engineError++;
          continue;
        }
        const a = await analyzer.analyze(q);
        if (a === "timeout") {
          stats.analyzerTimeout++;
          if (timedOut.length < 3) timedOut.push(q);
          continue;
        }
        if (a === "error") {
          stats.analyzerError++;
          continue;
        }
        if (a.ok) stats.analyzerOk++;
        else stats.analyzerNotOk++;
        if (reads.tables.includes("SecurityAlert")) stats.readForbidden++;
        const missing = [
          ...reads.tables.filter((t) => !a.tables.includes(t)),
          ...reads.storedFunctions.filter((f) => !a.functions.includes(f)),
        ];
        if (missing.length > 0)
          violations.push(
            `seed ${SEED} query #${n}: engine read ${missing.join(", ")} the analyzer did not report ` +
              `(analyzer tables ${JSON.stringify(a.tables)}, ok=${a.ok})\n  ${JSON.stringify(q)}`,
          );
        else if (corpus.length < 400) corpus.push(q); // queries that run make good parents for mutation
      }
      console.log(`differential fuzz (seed ${SEED}): ${JSON.stringify(stats)}`);
      for (const q of timedOut)
        console.log(`analysis passed its ${analyzer.deadlineMs} ms deadline (refused): ${JSON.stringify(q)}`);
      expect(violations, violations.join("\n")).toEqual([]);
      expect(stats.queries).toBeGreaterThan(SEEDS.length);
    },
    BUDGET_MS + 60_000,
  );
});
