import type { Expr, Op, Source, Tabular } from "./ast.js";
import { OperatorParser } from "./parser-operators.js";

// Tabular sources and pipelines: a table, `table("X")`, a stored function call, `(subquery)`, union, datatable,
// range and print, each followed by its `| operator` chain. Cross-cluster and other sources are rejected.

const UNSUPPORTED_OPERATORS = new Set([
  "evaluate",
  "search",
  "find",
  "as",
  "invoke",
  "scan",
  "partition",
  "fork",
  "facet",
  "sample",
  "sample-distinct",
  "getschema",
  "externaldata",
  "materialize",
]);

export class SourceParser extends OperatorParser {
  protected override tabular(): Tabular {
    const source = this.source();
    const ops: Op[] = [];
    while (this.accept("|")) ops.push(this.operator());
    return { source, ops };
  }

  private source(): Source {
    const first = this.t;
    const pos = first.pos;
    if (first.text === "(") {
      this.i++;
      const t = this.tabular();
      this.eat(")");
      return { k: "sub", t, pos };
    }
    if (first.kind !== "ident")
      this.fail("syntax", `expected a table name but found "${first.text || "end of query"}"`);
    const lower = first.text;
    if (lower === "table" && this.peek().text === "(" && this.peek(2).kind === "string" && this.peek(3).text === ")") {
      const name = String(this.peek(2).value);
      this.i += 4;
      return { k: "table", name, pos, tableFn: true };
    }
    if (lower === "table" && this.peek().text === "(" && this.peek(2).kind === "ident" && this.peek(3).text === ")") {
      // table(p) inside a tabular function: the table named by the parameter's value.
      const nameParam = this.peek(2).text;
      this.i += 4;
      return { k: "table", name: "", pos, tableFn: true, nameParam };
    }
    if (
      UNSUPPORTED_OPERATORS.has(lower) ||
      ["table", "cluster", "database", "workspace", "app", "adx", "resource", "external_table"].includes(lower)
    ) {
      this.fail("unsupported", `"${first.text}" is not supported by the local engine`, pos);
    }
    this.i++;
    if (lower === "union") return { ...this.unionBody(), pos };
    if (lower === "datatable") return this.datatable(pos);
    if (lower === "range") {
      const name = this.ident().text;
      this.eat("from");
      const from = this.expr();
      this.eat("to");
      const to = this.expr();
      this.eat("step");
      return { k: "range", name, from, to, step: this.expr(), pos };
    }
    if (lower === "print") return { k: "print", items: this.namedList(), pos };
    if (this.t.text === "(") {
      // A stored function invoked without arguments, e.g. AgentSecurityEvent().
      if (this.peek().text === ")" && !this.tabularNames.has(first.text)) {
        this.i += 2;
        return { k: "table", name: first.text, pos, call: true };
      }
      // A let-bound tabular function, or a stored function with parameters (resolved when the query runs).
      this.i++;
      const args: Expr[] = [];
      if ((this.t.text as string) !== ")") {
        args.push(this.expr());
        while (this.accept(",")) args.push(this.expr());
      }
      this.eat(")");
      return { k: "fncall", name: first.text, args, pos };
    }
    return { k: "table", name: first.text, pos };
  }

  private datatable(pos: number): Source {
    this.eat("(");
    const columns: { name: string; type: string }[] = [];
    do {
      const name = this.ident().text;
      this.eat(":");
      columns.push({ name, type: this.ident().text.toLowerCase() });
    } while (this.accept(","));
    this.eat(")");
    this.eat("[");
    const values: Expr[] = [];
    if ((this.t.text as string) !== "]") {
      values.push(this.expr());
      while (this.accept(",")) {
        if ((this.t.text as string) === "]") break;
        values.push(this.expr());
      }
    }
    this.eat("]");
    return { k: "datatable", columns, values, pos };
  }
}
