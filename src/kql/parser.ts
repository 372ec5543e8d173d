import { KqlError, positionOf } from "./errors.js";
import { type Token, tokenize } from "./lexer.js";
import { parseDatetime, parseTimespan } from "./values.js";

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
  | { k: "call"; name: string; args: Expr[]; pos: number }
  | { k: "member"; e: Expr; key: Expr; pos: number }
  | { k: "dyn"; v: unknown; pos: number }
  | { k: "between"; e: Expr; lo: Expr; hi: Expr; negate: boolean; pos: number }
  | { k: "star"; pos: number };

export type ParsePart = { k: "text"; text: string } | { k: "any" } | { k: "col"; name: string; type: string };

export interface SortKey {
  e: Expr;
  desc: boolean;
  /** Explicit `nulls first|last`; otherwise Kusto's default (first when ascending, last when descending). */
  nullsFirst: boolean;
}

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
  | { k: "sort"; keys: SortKey[]; pos: number }
  | { k: "top"; n: Expr; keys: SortKey[]; pos: number }
  | { k: "count"; pos: number }
  | { k: "distinct"; items: NamedExpr[]; star: boolean; pos: number }
  | { k: "render"; pos: number }
  | { k: "join"; kind: string; right: Tabular; on: { left: string; right: string }[]; pos: number }
  | { k: "union"; tables: Tabular[]; withsource?: string; pos: number }
  | { k: "mv-expand"; items: { name?: string; e: Expr; type?: string }[]; limit?: Expr; pos: number }
  | { k: "project-rename"; renames: { to: string; from: string }[]; pos: number }
  | { k: "project-keep" | "project-reorder"; cols: string[]; pos: number }
  | { k: "lookup"; kind: string; right: Tabular; on: { left: string; right: string }[]; pos: number }
  | { k: "parse"; e: Expr; parts: ParsePart[]; pos: number }
  | {
      k: "make-series";
      aggs: NamedExpr[];
      defaults: (Expr | undefined)[];
      on: Expr;
      from: Expr;
      to: Expr;
      step: Expr;
      by: NamedExpr[];
      pos: number;
    };

export type Source =
  /** call: `F()`, only a stored function; tableFn: `table("X")`, only a table of the data source. */
  | { k: "table"; name: string; pos: number; call?: boolean; tableFn?: boolean }
  | { k: "sub"; t: Tabular; pos: number }
  | { k: "union"; tables: Tabular[]; withsource?: string; pos: number }
  | { k: "datatable"; columns: { name: string; type: string }[]; values: Expr[]; pos: number }
  | { k: "range"; name: string; from: Expr; to: Expr; step: Expr; pos: number }
  | { k: "print"; items: NamedExpr[]; pos: number };

export interface Tabular {
  source: Source;
  ops: Op[];
}

/** A let-bound scalar function: `let f = (x:long, s:string) { x * 2 };`. */
export interface Lambda {
  params: { name: string; type: string }[];
  body: Expr;
}

export interface Query {
  lets: { name: string; scalar?: Expr; tabular?: Tabular; lambda?: Lambda; pos: number }[];
  body: Tabular;
}

const JOIN_KINDS = [
  "inner",
  "innerunique",
  "leftouter",
  "leftanti",
  "rightanti",
  "leftsemi",
  "rightsemi",
  "leftantisemi",
  "rightantisemi",
  "fullouter",
  "rightouter",
];

/** Binary string predicates, each also valid negated with a leading `!`. */
const STRING_OPERATORS = new Set([
  "has",
  "has_cs",
  "contains",
  "contains_cs",
  "startswith",
  "startswith_cs",
  "endswith",
  "endswith_cs",
  "hasprefix",
  "hassuffix",
]);

const UNSUPPORTED_OPERATORS = new Set([
  "mv-apply",
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
  /** Kusto keywords are case-sensitive (`LET`, `Union` are names, not keywords): matched exactly, as the analyzer does. */
  private isWord(w: string, t = this.t): boolean {
    return t.kind === "ident" && t.text === w;
  }
  private eat(text: string): Token {
    if (this.t.text !== text) {
      this.fail("syntax", `expected "${text}" but found "${this.t.text || "end of query"}"`);
    }
    return this.toks[this.i++]!;
  }
  private accept(text: string): boolean {
    if (this.t.text === text) {
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

  private tabular(): Tabular {
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
      // A stored function invoked without arguments, e.g. AgentSecurityEvent(); with arguments it is unsupported.
      if (this.peek().text === ")") {
        this.i += 2;
        return { k: "table", name: first.text, pos, call: true };
      }
      this.fail(
        "unsupported",
        `function call "${first.text}(...)" with arguments as a table is not supported by the local engine`,
        pos,
      );
    }
    return { k: "table", name: first.text, pos };
  }

  private unionBody(): { k: "union"; tables: Tabular[]; withsource?: string } {
    let withsource: string | undefined;
    for (;;) {
      if (this.isWord("withsource")) {
        this.i++;
        this.eat("=");
        withsource = this.ident().text;
      } else if (this.isWord("kind") || this.isWord("isfuzzy")) {
        this.i++;
        this.eat("=");
        this.i++;
      } else break;
    }
    if (this.t.kind === "op" && this.t.text === "*")
      this.fail("unsupported", "union * (wildcard) is not supported by the local engine");
    const tables = [this.unionItem()];
    while (this.accept(",")) tables.push(this.unionItem());
    return { k: "union", tables, ...(withsource ? { withsource } : {}) };
  }

  private unionItem(): Tabular {
    if (this.t.text === "(") {
      this.i++;
      const t = this.tabular();
      this.eat(")");
      return t;
    }
    const t = this.ident();
    if (this.t.kind === "op" && this.t.text === "*")
      this.fail("unsupported", "wildcard table names are not supported by the local engine", t.pos);
    return { source: { k: "table", name: t.text, pos: t.pos }, ops: [] };
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

  private operator(): Op {
    const t = this.ident();
    const pos = t.pos;
    const w = t.text;
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
        const keys = [this.sortKey()];
        while (this.accept(",")) keys.push(this.sortKey());
        return { k: "top", n, keys, pos };
      }
      case "count":
        return { k: "count", pos };
      case "join":
        return this.joinLike(pos, false);
      case "lookup":
        return this.joinLike(pos, true);
      case "project-keep":
      case "project-reorder": {
        const cols = [this.columnPattern()];
        while (this.accept(",")) cols.push(this.columnPattern());
        return { k: w, cols, pos };
      }
      case "parse":
        return this.parseOperator(pos);
      case "union":
        return { ...this.unionBody(), pos };
      case "mv-expand":
        return this.mvExpand(pos);
      case "project-rename": {
        const renames: { to: string; from: string }[] = [];
        do {
          const to = this.ident().text;
          this.eat("=");
          renames.push({ to, from: this.ident().text });
        } while (this.accept(","));
        return { k: "project-rename", renames, pos };
      }
      case "make-series": {
        const aggs: NamedExpr[] = [];
        const defaults: (Expr | undefined)[] = [];
        do {
          aggs.push(this.named());
          let dflt: Expr | undefined;
          if (this.accept("default")) {
            this.eat("=");
            dflt = this.expr();
          }
          defaults.push(dflt);
        } while (this.accept(","));
        this.eat("on");
        const on = this.expr();
        this.eat("from");
        const from = this.expr();
        this.eat("to");
        const to = this.expr();
        this.eat("step");
        const step = this.expr();
        const by = this.accept("by") ? this.namedList() : [];
        return { k: "make-series", aggs, defaults, on, from, to, step, by, pos };
      }
      case "distinct":
        if (this.t.kind === "op" && this.t.text === "*") {
          this.i++;
          return { k: "distinct", items: [], star: true, pos };
        }
        return { k: "distinct", items: this.namedList(), star: false, pos };
      case "render":
        while (this.t.kind !== "eof" && this.t.text !== "|" && this.t.text !== ";") this.i++;
        return { k: "render", pos };
      default:
        this.fail("unsupported", `operator "${t.text}" is not supported by the local engine`, pos);
    }
  }

  /** join / lookup: `[kind=K] [hint.x=y] (Right) on Col, $left.A == $right.B, ...`. */
  private joinLike(pos: number, lookup: boolean): Op {
    let kind = lookup ? "leftouter" : "innerunique";
    while (this.isWord("kind") || this.isWord("hint")) {
      const isKind = this.isWord("kind");
      this.i++;
      if ((this.t.text as string) === ".") {
        this.i++;
        this.ident();
      }
      this.eat("=");
      const v = this.ident().text.toLowerCase();
      if (isKind) kind = v;
    }
    const kinds = lookup ? ["leftouter", "inner"] : JOIN_KINDS;
    if (!kinds.includes(kind))
      this.fail("unsupported", `${lookup ? "lookup" : "join"} kind "${kind}" is not supported`, pos);
    let right: Tabular;
    if (this.accept("(")) {
      right = this.tabular();
      this.eat(")");
    } else {
      const name = this.ident();
      right = { source: { k: "table", name: name.text, pos: name.pos }, ops: [] };
    }
    this.eat("on");
    const on: { left: string; right: string }[] = [];
    do {
      if (this.isWord("$left") || this.isWord("$right")) {
        const a = this.sideColumn();
        this.eat("==");
        const b = this.sideColumn();
        on.push(a.side === "left" ? { left: a.col, right: b.col } : { left: b.col, right: a.col });
      } else {
        const c = this.ident().text;
        on.push({ left: c, right: c });
      }
    } while (this.accept(",") || this.accept("and"));
    return lookup ? { k: "lookup", kind, right, on, pos } : { k: "join", kind, right, on, pos };
  }

  /** A column name, possibly with * wildcards (project-keep / project-reorder). */
  private columnPattern(): string {
    let out = "";
    for (;;) {
      if (this.t.kind === "ident") out += this.toks[this.i++]!.text;
      else if (this.t.kind === "op" && this.t.text === "*") {
        out += "*";
        this.i++;
      } else break;
      const prev = this.toks[this.i - 1]!;
      if (this.t.pos !== prev.end) break; // adjacent tokens only: Sec* or *Time
    }
    if (!out) this.fail("syntax", `expected a column name but found "${this.t.text || "end of query"}"`);
    if (this.isWord("asc") || this.isWord("desc") || this.isWord("granny-asc") || this.isWord("granny-desc"))
      this.fail("unsupported", "project-reorder with a sort order is not supported by the local engine");
    return out;
  }

  /** parse [kind=simple] Expr with [*] "const" Name[:type] ... — the simple (default) kind only. */
  private parseOperator(pos: number): Op {
    if (this.isWord("kind")) {
      this.i++;
      this.eat("=");
      const kind = this.ident().text.toLowerCase();
      if (kind !== "simple") this.fail("unsupported", `parse kind=${kind} is not supported by the local engine`, pos);
    }
    const e = this.add();
    this.eat("with");
    const parts: ParsePart[] = [];
    while (this.t.kind !== "eof" && this.t.text !== "|" && this.t.text !== ";" && this.t.text !== ")") {
      if (this.t.kind === "string") parts.push({ k: "text", text: String(this.toks[this.i++]!.value) });
      else if (this.t.kind === "op" && this.t.text === "*") {
        this.i++;
        parts.push({ k: "any" });
      } else {
        const name = this.ident().text;
        const type = this.accept(":") ? this.ident().text.toLowerCase() : "string";
        parts.push({ k: "col", name, type });
      }
    }
    if (!parts.some((p) => p.k === "col")) this.fail("syntax", "parse needs at least one column to extract", pos);
    return { k: "parse", e, parts, pos };
  }

  private sideColumn(): { side: "left" | "right"; col: string } {
    const t = this.ident();
    const side = t.text === "$left" ? "left" : t.text === "$right" ? "right" : undefined;
    if (!side) this.fail("syntax", `expected $left.Column or $right.Column in join condition`, t.pos);
    this.eat(".");
    return { side, col: this.ident().text };
  }

  private sortKey(): SortKey {
    const e = this.expr();
    let desc = true; // Kusto sorts descending by default
    if (this.accept("asc")) desc = false;
    else this.accept("desc");
    let nullsFirst = !desc;
    if (this.accept("nulls")) {
      if (this.accept("first")) nullsFirst = true;
      else {
        this.eat("last");
        nullsFirst = false;
      }
    }
    return { e, desc, nullsFirst };
  }

  private mvExpand(pos: number): Op {
    if (this.isWord("kind") || this.isWord("bagexpansion") || this.isWord("with_itemindex"))
      this.fail("unsupported", `mv-expand ${this.t.text}= is not supported by the local engine`, this.t.pos);
    const items: { name?: string; e: Expr; type?: string }[] = [];
    do {
      const it = this.named();
      let type: string | undefined;
      if (this.accept("to")) {
        this.eat("typeof");
        this.eat("(");
        type = this.ident().text.toLowerCase();
        this.eat(")");
      }
      items.push({ ...(it.name ? { name: it.name } : {}), e: it.e, ...(type ? { type } : {}) });
    } while (this.accept(","));
    const limit = this.accept("limit") ? this.expr() : undefined;
    return { k: "mv-expand", items, ...(limit ? { limit } : {}), pos };
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
    const w = this.t.kind === "ident" ? this.t.text : "";
    if (STRING_OPERATORS.has(w)) {
      this.i++;
      const e: Expr = { k: "bin", op: w, l, r: this.add(), pos };
      return negate ? { k: "not", e, pos } : e;
    }
    if (w === "in" || w === "has_any" || w === "has_all") {
      this.i++;
      const ci = this.t.kind === "op" && this.t.text === "~" && w === "in";
      if (ci) this.i++;
      this.eat("(");
      const list: Expr[] = [];
      if (this.t.text !== ")") {
        list.push(this.expr());
        while (this.accept(",")) list.push(this.expr());
      }
      this.eat(")");
      if (w !== "in") {
        const e: Expr = { k: "call", name: `__${w}`, args: [l, ...list], pos };
        return negate ? { k: "not", e, pos } : e;
      }
      return { k: "in", e: l, list, negate, ci, pos };
    }
    if (w === "between") {
      this.i++;
      this.eat("(");
      const lo = this.add();
      this.eat("..");
      const hi = this.add();
      this.eat(")");
      return { k: "between", e: l, lo, hi, negate, pos };
    }
    // The lexer reads `matches regex` as one keyword only when spelled with exactly one space, as Kusto does.
    if (w === "matches") this.fail("syntax", 'write "matches regex" with a single space between the words', this.t.pos);
    if (w === "matches regex") {
      this.i++;
      const e: Expr = { k: "call", name: "__matches", args: [l, this.add()], pos };
      return negate ? { k: "not", e, pos } : e;
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
      // Adjacent string literals are one value, as in Kusto ('a' 'b' is "ab").
      let v = "";
      while (this.t.kind === "string") v += String(this.toks[this.i++]!.value);
      return { k: "lit", v, type: "string", pos };
    }
    if (t.kind === "guid") {
      this.i++;
      return { k: "lit", v: String(t.value).toLowerCase(), type: "string", pos };
    }
    if (t.kind === "number") {
      this.i++;
      return {
        k: "lit",
        v: t.value as number,
        type: /^0x/i.test(t.text) || !/[.eE]/.test(t.text) ? "long" : "real",
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
      const lower = t.text;
      if (/^(true|True|TRUE|false|False|FALSE)$/.test(lower))
        return { k: "lit", v: lower.toLowerCase() === "true", type: "bool", pos };
      let e: Expr;
      if (this.t.text === "(") {
        this.i++;
        if (t.text === "datetime" || t.text === "date") return this.datetimeLiteral(pos);
        if (this.t.kind === "goo") return this.gooLiteral(t.text, pos);
        if ((lower === "time" || lower === "timespan") && this.t.kind === "timespan") {
          const raw = String(this.toks[this.i++]!.value);
          this.eat(")");
          const ms = raw.toLowerCase() === "null" ? null : parseTimespan(raw);
          if (ms === null && raw.toLowerCase() !== "null")
            this.fail("syntax", `invalid timespan literal "${raw}"`, pos);
          return { k: "lit", v: ms, type: "timespan", pos };
        }
        if (lower === "dynamic") {
          const v = this.dynamicValue();
          this.eat(")");
          return { k: "dyn", v, pos };
        }
        const args: Expr[] = [];
        if ((this.t.text as string) !== ")") {
          args.push(this.callArg());
          while (this.accept(",")) args.push(this.callArg());
        }
        this.eat(")");
        e = { k: "call", name: lower, args, pos };
      } else e = { k: "col", name: t.text, pos };
      // Member access on dynamic values: d.a.b, d["x"], d[0].
      for (;;) {
        if (this.t.text === "." && this.peek().kind === "ident") {
          const p2 = this.t.pos;
          this.i++;
          const key = this.ident().text;
          e = { k: "member", e, key: { k: "lit", v: key, type: "string", pos: p2 }, pos: p2 };
        } else if (this.t.text === "[") {
          const p2 = this.t.pos;
          this.i++;
          const key = this.expr();
          this.eat("]");
          e = { k: "member", e, key, pos: p2 };
        } else break;
      }
      return e;
    }
    this.fail("syntax", `unexpected "${t.text || "end of query"}"`);
  }
  private callArg(): Expr {
    if (this.t.kind === "op" && this.t.text === "*") {
      const pos = this.t.pos;
      this.i++;
      return { k: "star", pos };
    }
    return this.expr();
  }

  /** A dynamic literal: JSON-like arrays, property bags and scalars (single or double quoted strings). */
  private dynamicValue(): unknown {
    const t = this.t;
    if (t.text === "[") {
      this.i++;
      const out: unknown[] = [];
      if ((this.t.text as string) !== "]") {
        out.push(this.dynamicValue());
        while (this.accept(",")) out.push(this.dynamicValue());
      }
      this.eat("]");
      return out;
    }
    if (t.text === "{") {
      this.i++;
      const out: Record<string, unknown> = {};
      if ((this.t.text as string) !== "}") {
        do {
          const k = this.t.kind === "string" ? String(this.toks[this.i++]!.value) : this.ident().text;
          this.eat(":");
          out[k] = this.dynamicValue();
        } while (this.accept(","));
      }
      this.eat("}");
      return out;
    }
    if (t.kind === "string") return String(this.toks[this.i++]!.value);
    if (t.kind === "number") return Number(this.toks[this.i++]!.value);
    if (t.kind === "op" && t.text === "-" && this.peek().kind === "number") {
      this.i++;
      return -Number(this.toks[this.i++]!.value);
    }
    if (this.isWord("true") || this.isWord("false") || this.isWord("null")) {
      const w = this.toks[this.i++]!.text.toLowerCase();
      return w === "null" ? null : w === "true";
    }
    this.fail("syntax", `invalid dynamic literal near "${t.text}"`);
  }

  /** long(5), int(null), real(1.5), bool(true), guid(...): the raw text between the parentheses. */
  private gooLiteral(kw: string, pos: number): Expr {
    const raw = String(this.toks[this.i++]!.value);
    this.eat(")");
    if (raw === "null")
      return { k: "lit", v: null, type: kw === "bool" ? "bool" : kw === "guid" ? "string" : "real", pos };
    if (kw === "bool") {
      if (!/^(true|false)$/i.test(raw)) this.fail("syntax", `invalid bool literal "${raw}"`, pos);
      return { k: "lit", v: raw.toLowerCase() === "true", type: "bool", pos };
    }
    if (kw === "guid") return { k: "lit", v: raw.toLowerCase(), type: "string", pos };
    const n = Number(raw);
    if (raw === "" || Number.isNaN(n)) this.fail("syntax", `invalid ${kw} literal "${raw}"`, pos);
    return { k: "lit", v: n, type: kw === "real" || kw === "double" || kw === "decimal" ? "real" : "long", pos };
  }

  private datetimeLiteral(pos: number): Expr {
    // The raw text between the parentheses; a quoted form datetime('2024-01-01') is accepted too.
    let raw = this.t.kind === "string" ? String(this.toks[this.i++]!.value) : "";
    const q = /^(['"])(.*)\1$/.exec(raw);
    if (q) raw = q[2]!;
    this.eat(")");
    const ms = parseDatetime(raw);
    if (ms === null && raw.toLowerCase() !== "null") this.fail("syntax", `invalid datetime literal "${raw}"`, pos);
    return { k: "lit", v: ms, type: "datetime", pos };
  }
}

export function parseKql(text: string): Query {
  return new Parser(text).query();
}
