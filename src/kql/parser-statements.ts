import type { Lambda, Query, TabularLambda } from "./ast.js";
import { SourceParser } from "./parser-sources.js";

// Statements: the `let` bindings (scalar, tabular, or a scalar function) before the query body, and the end of input.

export class StatementParser extends SourceParser {
  query(): Query {
    const q = this.statements();
    if (this.t.kind !== "eof") this.fail("syntax", `unexpected "${this.t.text}" after the end of the query`);
    return q;
  }

  /** `let ...;` statements and one tabular expression (a whole query, or the body of a tabular function). */
  private statements(): Query {
    const lets: Query["lets"] = [];
    while (this.isWord("let")) {
      const pos = this.t.pos;
      this.i++;
      const name = this.ident().text;
      this.eat("=");
      if (this.t.text === "(" && (this.peek().text === ")" || this.peek(2).text === ":")) {
        const fn = this.lambda();
        if ("body" in fn && "lets" in fn.body) {
          this.tabularNames.add(name);
          lets.push({ name, tabFn: fn as TabularLambda, pos });
        } else lets.push({ name, lambda: fn as Lambda, pos });
      } else if (this.peekIsTabularStart()) {
        this.tabularNames.add(name);
        lets.push({ name, tabular: this.tabular(), pos });
      } else lets.push({ name, scalar: this.expr(), pos });
      this.eat(";");
    }
    if (this.t.kind === "punct" && this.t.text === ".") this.fail("unsupported", "control commands are not supported");
    const body = this.tabular();
    this.accept(";");
    return { lets, body };
  }

  private lambda(): Lambda | TabularLambda {
    this.eat("(");
    const params: Lambda["params"] = [];
    while (this.t.text !== ")") {
      const name = this.ident().text;
      this.eat(":");
      if (this.t.text === "(" || this.t.text === "*")
        this.fail("unsupported", "let-bound functions with tabular parameters are not supported by the local engine");
      params.push({ name, type: this.ident().text.toLowerCase() });
      if (this.t.text === "=")
        this.fail("unsupported", "default values for function parameters are not supported by the local engine");
      if (!this.accept(",")) break;
    }
    this.eat(")");
    this.eat("{");
    if (this.isWord("let") || this.peekIsTabularStart() || this.isWord("table")) {
      const outer = new Set(this.tabularNames);
      const body = this.statements();
      this.eat("}");
      // Names bound inside the body are local to it.
      this.tabularNames.clear();
      for (const n of outer) this.tabularNames.add(n);
      return { params, body };
    }
    const body = this.expr();
    this.eat("}");
    return { params, body };
  }

  private peekIsTabularStart(): boolean {
    // `let X = T | ...`, `let X = T;` (T capitalised), `let X = datatable(...)`/range/print/union, `let X = (T | ...)`.
    const t = this.t;
    const next = this.peek();
    const lower = t.text;
    if (t.kind === "ident" && ["datatable", "range", "print", "union"].includes(lower)) return true;
    if (t.kind === "ident" && this.tabularNames.has(t.text)) return true;
    // `let X = F(args) | ...`: a tabular function call (e.g. the stored _GetWatchlist('Alias')) piped on.
    if (t.kind === "ident" && next.text === "(") {
      let depth = 0;
      for (let j = 1; ; j++) {
        const x = this.peek(j);
        if (x.kind === "eof") return false;
        if (x.text === "(") depth++;
        else if (x.text === ")" && --depth === 0) return this.peek(j + 1).text === "|";
      }
    }
    if (t.text === "(") return next.kind === "ident" && this.peek(2).text === "|";
    return (
      t.kind === "ident" &&
      (next.text === "|" || (next.text === ";" && /^[A-Z]/.test(t.text) && !["true", "false"].includes(t.text)))
    );
  }
}
