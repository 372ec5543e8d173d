import type { Lambda, Query } from "./ast.js";
import { SourceParser } from "./parser-sources.js";

// Statements: the `let` bindings (scalar, tabular, or a scalar function) before the query body, and the end of input.

export class StatementParser extends SourceParser {
  query(): Query {
    const lets: Query["lets"] = [];
    while (this.isWord("let")) {
      const pos = this.t.pos;
      this.i++;
      const name = this.ident().text;
      this.eat("=");
      if (this.t.text === "(" && (this.peek().text === ")" || this.peek(2).text === ":"))
        lets.push({ name, lambda: this.lambda(), pos });
      else if (this.peekIsTabularStart()) lets.push({ name, tabular: this.tabular(), pos });
      else lets.push({ name, scalar: this.expr(), pos });
      this.eat(";");
    }
    if (this.t.kind === "punct" && this.t.text === ".") this.fail("unsupported", "control commands are not supported");
    const body = this.tabular();
    this.accept(";");
    if (this.t.kind !== "eof") this.fail("syntax", `unexpected "${this.t.text}" after the end of the query`);
    return { lets, body };
  }

  private lambda(): Lambda {
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
    const start = this.t;
    if (start.kind === "ident" && (this.peek().text === "|" || this.isWord("let")))
      this.fail("unsupported", "let-bound functions with a tabular body are not supported by the local engine");
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
    if (t.text === "(") return next.kind === "ident" && this.peek(2).text === "|";
    return (
      t.kind === "ident" &&
      (next.text === "|" || (next.text === ";" && /^[A-Z]/.test(t.text) && !["true", "false"].includes(t.text)))
    );
  }
}
