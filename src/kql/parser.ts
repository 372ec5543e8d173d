import { KqlError, positionOf } from "./errors.js";
import { type Token, tokenize } from "./lexer.js";

// A recursive-descent parser for the KQL surface the local engine runs. Anything else is rejected with the
// construct's name and position, so the engine never guesses.

export type Expr =
  | {
      k: "lit";
      v: string | number | boolean | null;
      type: "string" | "real" | "long" | "bool" | "timespan" | "datetime" | "dynamic";
      pos: number;
    }
  | { k: "col"; name: string; pos: number }
  | { k: "bin"; op: string; l: Expr; r: Expr; pos: number }
  | { k: "not"; e: Expr; pos: number }
  | { k: "neg"; e: Expr; pos: number }
  | { k: "in"; e: Expr; list: Expr[]; negate: boolean; ci: boolean; pos: number }
  | { k: "call"; name: string; args: Expr[]; pos: number };

export interface NamedExpr {
  name?: string;
  e: Expr;
}

export type Op =
  | { k: "where"; e: Expr; pos: number }
  | { k: "take"; n: Expr; pos: number }
  | { k: "project"; items: NamedExpr[]; pos: number }
  | { k: "extend"; items: NamedExpr[]; pos: number }
  | { k: "project-away"; cols: string[]; pos: number }
  | { k: "summarize"; aggs: NamedExpr[]; by: NamedExpr[]; pos: number }
  | { k: "sort"; keys: { e: Expr; desc: boolean }[]; pos: number }
  | { k: "top"; n: Expr; key: { e: Expr; desc: boolean }; pos: number }
  | { k: "count"; pos: number }
  | { k: "distinct"; items: NamedExpr[]; pos: number }
  | { k: "render"; pos: number };

export interface Tabular {
  source: { k: "table"; name: string; pos: number };
  ops: Op[];
}

export interface Query {
  lets: { name: string; scalar?: Expr; tabular?: Tabular; pos: number }[];
  body: Tabular;
}

const UNSUPPORTED_OPERATORS = new Set([
  "join",
  "union",
  "lookup",
  "mv-expand",
  "mv-apply",
  "make-series",
  "parse",
  "evaluate",
  "search",
  "find",
  "as",
  "invoke",
  "serialize",
  "scan",
  "partition",
  "fork",
  "facet",
  "sample",
  "sample-distinct",
  "getschema",
  "externaldata",
  "project-rename",
  "project-keep",
  "project-reorder",
  "range",
  "print",
  "datatable",
  "materialize",
]);

class Parser {
  private i = 0;
  private readonly toks: Token[];
  constructor(private readonly text: string) {
    this.toks = tokenize(text);
  }

  private get t(): Token {
    return this.toks[this.i]!;
  }
  private peek(n = 1): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }
  private fail(code: "syntax" | "unsupported", message: string, pos = this.t.pos): never {
    throw new KqlError({ code, message, ...positionOf(this.text, pos) });
  }
  private isWord(w: string, t = this.t): boolean {
    return t.kind === "ident" && t.text.toLowerCase() === w;
  }
  private eat(text: string): Token {
    if (this.t.text !== text && !(this.t.kind === "ident" && this.t.text.toLowerCase() === text)) {
      this.fail("syntax", `expected "${text}" but found "${this.t.text || "end of query"}"`);
    }
    return this.toks[this.i++]!;
  }
  private accept(text: string): boolean {
    if (this.t.text === text || (this.t.kind === "ident" && this.t.text.toLowerCase() === text)) {
      this.i++;
      return true;
    }
    return false;
  }
  private ident(): Token {
    if (this.t.kind !== "ident") this.fail("syntax", `expected a name but found "${this.t.text || "end of query"}"`);
    return this.toks[this.i++]!;
  }

  query(): Query {
    const lets: Query["lets"] = [];
    while (this.isWord("let")) {
      const pos = this.t.pos;
      this.i++;
      const name = this.ident().text;
      this.eat("=");
      if (this.t.kind === "ident" && this.peekIsTabularStart()) lets.push({ name, tabular: this.tabular(), pos });
      else lets.push({ name, scalar: this.expr(), pos });
      this.eat(";");
    }
    if (this.t.kind === "punct" && this.t.text === ".") this.fail("unsupported", "control commands are not supported");
    const body = this.tabular();
    this.accept(";");
    if (this.t.kind !== "eof") this.fail("syntax", `unexpected "${this.t.text}" after the end of the query`);
    return { lets, body };
  }

  private peekIsTabularStart(): boolean {
    // `let X = Name | ...` or `let X = Name;` where Name is a table is tabular; a call or literal is scalar.
    const next = this.peek();
    return (
      next.text === "|" || (next.text === ";" && /^[A-Z]/.test(this.t.text) && !["true", "false"].includes(this.t.text))
    );
  }

  private tabular(): Tabular {
    const first = this.t;
    if (first.kind !== "ident")
      this.fail("syntax", `expected a table name but found "${first.text || "end of query"}"`);
    const lower = first.text.toLowerCase();
    if (
      UNSUPPORTED_OPERATORS.has(lower) ||
      lower === "table" ||
      lower === "cluster" ||
      lower === "database" ||
      lower === "workspace" ||
      lower === "app"
    ) {
      this.fail("unsupported", `"${first.text}" is not supported by the local engine`, first.pos);
    }
    this.i++;
    if (this.t.text === "(")
      this.fail(
        "unsupported",
        `function call "${first.text}(...)" as a table is not supported by the local engine`,
        first.pos,
      );
    const source = { k: "table" as const, name: first.text, pos: first.pos };
    const ops: Op[] = [];
    while (this.accept("|")) ops.push(this.operator());
    return { source, ops };
  }

  private operator(): Op {
    const t = this.ident();
    const pos = t.pos;
    const w = t.text.toLowerCase();
    switch (w) {
      case "where":
      case "filter":
        return { k: "where", e: this.expr(), pos };
      case "take":
      case "limit":
        return { k: "take", n: this.expr(), pos };
      case "project":
        return { k: "project", items: this.namedList(), pos };
      case "extend":
        return { k: "extend", items: this.namedList(), pos };
      case "project-away": {
        const cols = [this.ident().text];
        while (this.accept(",")) cols.push(this.ident().text);
        return { k: "project-away", cols, pos };
      }
      case "summarize": {
        const aggs = this.isWord("by") ? [] : this.namedList();
        const by = this.accept("by") ? this.namedList() : [];
        return { k: "summarize", aggs, by, pos };
      }
      case "sort":
      case "order": {
        this.eat("by");
        const keys = [this.sortKey()];
        while (this.accept(",")) keys.push(this.sortKey());
        return { k: "sort", keys, pos };
      }
      case "top": {
        const n = this.expr();
        this.eat("by");
        return { k: "top", n, key: this.sortKey(), pos };
      }
      case "count":
        return { k: "count", pos };
      case "distinct":
        return { k: "distinct", items: this.namedList(), pos };
      case "render":
        while (this.t.kind !== "eof" && this.t.text !== "|" && this.t.text !== ";") this.i++;
        return { k: "render", pos };
      default:
        this.fail("unsupported", `operator "${t.text}" is not supported by the local engine`, pos);
    }
  }

  private sortKey(): { e: Expr; desc: boolean } {
    const e = this.expr();
    let desc = true; // Kusto sorts descending by default
    if (this.accept("asc")) desc = false;
    else this.accept("desc");
    if (this.accept("nulls")) {
      if (!this.accept("first")) this.eat("last");
    }
    return { e, desc };
  }

  private namedList(): NamedExpr[] {
    const out: NamedExpr[] = [this.named()];
    while (this.accept(",")) out.push(this.named());
    return out;
  }

  private named(): NamedExpr {
    if (this.t.kind === "ident" && this.peek().text === "=") {
      const name = this.ident().text;
      this.eat("=");
      return { name, e: this.expr() };
    }
    return { e: this.expr() };
  }

  expr(): Expr {
    return this.or();
  }
  private or(): Expr {
    let l = this.and();
    while (this.isWord("or")) {
      const pos = this.t.pos;
      this.i++;
      l = { k: "bin", op: "or", l, r: this.and(), pos };
    }
    return l;
  }
  private and(): Expr {
    let l = this.cmp();
    while (this.isWord("and")) {
      const pos = this.t.pos;
      this.i++;
      l = { k: "bin", op: "and", l, r: this.cmp(), pos };
    }
    return l;
  }
  private cmp(): Expr {
    const l = this.add();
    const t = this.t;
    const pos = t.pos;
    if (t.kind === "op" && ["==", "!=", "=~", "!~", "<", "<=", ">", ">="].includes(t.text)) {
      this.i++;
      return { k: "bin", op: t.text, l, r: this.add(), pos };
    }
    let negate = false;
    if (t.kind === "op" && t.text === "!" && this.peek().kind === "ident") {
      negate = true;
      this.i++;
    }
    const w = this.t.kind === "ident" ? this.t.text.toLowerCase() : "";
    if (["has", "contains", "startswith", "endswith", "has_cs", "contains_cs"].includes(w)) {
      this.i++;
      const e: Expr = { k: "bin", op: w, l, r: this.add(), pos };
      return negate ? { k: "not", e, pos } : e;
    }
    if (w === "in" || w === "has_any") {
      this.i++;
      const ci = this.t.kind === "op" && this.t.text === "~";
      this.eat("(");
      const list: Expr[] = [];
      if (this.t.text !== ")") {
        list.push(this.expr());
        while (this.accept(",")) list.push(this.expr());
      }
      this.eat(")");
      if (w === "has_any") return { k: "call", name: "__has_any", args: [l, ...list], pos };
      return { k: "in", e: l, list, negate, ci, pos };
    }
    if (w === "matches") {
      this.i++;
      this.eat("regex");
      return { k: "call", name: "__matches", args: [l, this.add()], pos };
    }
    if (negate) this.fail("unsupported", `operator "!${this.t.text}" is not supported by the local engine`, pos);
    return l;
  }
  private add(): Expr {
    let l = this.mul();
    while (this.t.kind === "op" && (this.t.text === "+" || this.t.text === "-")) {
      const t = this.toks[this.i++]!;
      l = { k: "bin", op: t.text, l, r: this.mul(), pos: t.pos };
    }
    return l;
  }
  private mul(): Expr {
    let l = this.unary();
    while (this.t.kind === "op" && ["*", "/", "%"].includes(this.t.text)) {
      const t = this.toks[this.i++]!;
      l = { k: "bin", op: t.text, l, r: this.unary(), pos: t.pos };
    }
    return l;
  }
  private unary(): Expr {
    const t = this.t;
    if (t.kind === "op" && t.text === "-") {
      this.i++;
      return { k: "neg", e: this.unary(), pos: t.pos };
    }
    if (this.isWord("not") && this.peek().text === "(") {
      this.i++;
      this.eat("(");
      const e = this.expr();
      this.eat(")");
      return { k: "not", e, pos: t.pos };
    }
    return this.primary();
  }
  private primary(): Expr {
    const t = this.t;
    const pos = t.pos;
    if (t.kind === "string") {
      this.i++;
      return { k: "lit", v: t.value as string, type: "string", pos };
    }
    if (t.kind === "number") {
      this.i++;
      return {
        k: "lit",
        v: t.value as number,
        type: Number.isInteger(t.value) && !t.text.includes(".") ? "long" : "real",
        pos,
      };
    }
    if (t.kind === "timespan") {
      this.i++;
      return { k: "lit", v: t.value as number, type: "timespan", pos };
    }
    if (t.text === "(") {
      this.i++;
      const e = this.expr();
      this.eat(")");
      return e;
    }
    if (t.kind === "ident") {
      this.i++;
      const lower = t.text.toLowerCase();
      if (lower === "true" || lower === "false") return { k: "lit", v: lower === "true", type: "bool", pos };
      if (this.t.text === "(") {
        this.i++;
        if (lower === "datetime") return this.datetimeLiteral(pos);
        const args: Expr[] = [];
        if ((this.t.text as string) !== ")") {
          args.push(this.expr());
          while (this.accept(",")) args.push(this.expr());
        }
        this.eat(")");
        return { k: "call", name: lower, args, pos };
      }
      if (this.t.text === "." || this.t.text === "[")
        this.fail("unsupported", `member access on "${t.text}" is not supported by the local engine`);
      return { k: "col", name: t.text, pos };
    }
    this.fail("syntax", `unexpected "${t.text || "end of query"}"`);
  }
  private datetimeLiteral(pos: number): Expr {
    const raw = this.t.kind === "string" ? String(this.toks[this.i++]!.value) : "";
    this.eat(")");
    const ms = Date.parse(
      /[zZ]|[+-]\d\d:?\d\d$/.test(raw) || (!raw.includes("T") && raw.length <= 10) ? raw : `${raw}Z`,
    );
    if (Number.isNaN(ms)) this.fail("syntax", `invalid datetime literal "${raw}"`, pos);
    return { k: "lit", v: ms, type: "datetime", pos };
  }
}

export function parseKql(text: string): Query {
  return new Parser(text).query();
}
