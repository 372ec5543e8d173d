import type { Expr, NamedExpr, Op, ParsePart, SortKey, Tabular } from "./ast.js";
import { ExprParser } from "./parser-expressions.js";

// Tabular operators: what follows each `|` (where, project, summarize, join, union, mv-expand, parse, ...). Anything
// else is rejected with the operator's name and position.

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

export abstract class OperatorParser extends ExprParser {
  protected unionBody(): { k: "union"; tables: Tabular[]; withsource?: string; fuzzy?: boolean } {
    let withsource: string | undefined;
    let fuzzy = false;
    for (;;) {
      if (this.isWord("withsource")) {
        this.i++;
        this.eat("=");
        withsource = this.ident().text;
      } else if (this.isWord("isfuzzy")) {
        this.i++;
        this.eat("=");
        fuzzy = this.ident().text.toLowerCase() === "true";
      } else if (this.isWord("kind")) {
        this.i++;
        this.eat("=");
        this.i++;
      } else break;
    }
    if (this.t.kind === "op" && this.t.text === "*")
      this.fail("unsupported", "union * (wildcard) is not supported by the local engine");
    const tables = [this.unionItem()];
    while (this.accept(",")) tables.push(this.unionItem());
    return { k: "union", tables, ...(withsource ? { withsource } : {}), ...(fuzzy ? { fuzzy } : {}) };
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

  /** An aggregate list that may end with a comma before `by` (Kusto accepts `summarize a = count(), by X`). */
  private aggList(): NamedExpr[] {
    const out: NamedExpr[] = [this.named()];
    while (this.accept(",")) {
      if (this.isWord("by")) break;
      out.push(this.named());
    }
    return out;
  }

  protected operator(): Op {
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
      case "serialize": {
        const atEnd = this.t.kind === "eof" || this.t.text === "|" || this.t.text === ";" || this.t.text === ")";
        return { k: "serialize", items: atEnd ? [] : this.namedList(), pos };
      }
      case "project-away": {
        const cols = [this.ident().text];
        while (this.accept(",")) cols.push(this.ident().text);
        return { k: "project-away", cols, pos };
      }
      case "summarize": {
        const aggs = this.isWord("by") ? [] : this.aggList();
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
      case "mvexpand":
        return this.mvExpand(pos);
      case "mv-apply":
      case "mvapply":
        return this.mvApply(pos);
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
        const on = this.add(); // not expr(): `on T in range(...)` must not read as the in operator
        let from: Expr | undefined;
        let to: Expr | undefined;
        let step: Expr;
        if (this.accept("in")) {
          // on T in range(from, to, step)
          if (!this.isWord("range")) this.fail("syntax", `expected "range" but found "${this.t.text}"`);
          this.i++;
          this.eat("(");
          from = this.expr();
          this.eat(",");
          to = this.expr();
          this.eat(",");
          step = this.expr();
          this.eat(")");
        } else {
          if (this.accept("from")) from = this.expr();
          if (this.accept("to")) to = this.expr();
          this.eat("step");
          step = this.expr();
        }
        const by = this.accept("by") ? this.namedList() : [];
        return {
          k: "make-series",
          aggs,
          defaults,
          on,
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          step,
          by,
          pos,
        };
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
      if (isKind) kind = v === "anti" ? "leftanti" : v === "semi" ? "leftsemi" : v;
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

  /** The `[Name =] Expr [to typeof(T)], ...` list mv-expand and mv-apply share. */
  private expandItems(): { name?: string; e: Expr; type?: string }[] {
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
    return items;
  }

  /** mv-apply [Name =] Expr [to typeof(T)], ... on ( operators ): a subquery over each row's expanded arrays. */
  private mvApply(pos: number): Op {
    for (const w of ["kind", "with_itemindex", "limit", "itemIndex"])
      if (this.isWord(w)) this.fail("unsupported", `unsupported mv-apply ${w}`, this.t.pos);
    const items = this.expandItems();
    this.eat("on");
    this.eat("(");
    const ops: Op[] = [this.operator()];
    while (this.accept("|")) ops.push(this.operator());
    this.eat(")");
    return { k: "mv-apply", items, ops, pos };
  }

  private mvExpand(pos: number): Op {
    if (this.isWord("kind") || this.isWord("bagexpansion") || this.isWord("with_itemindex"))
      this.fail("unsupported", `mv-expand ${this.t.text}= is not supported by the local engine`, this.t.pos);
    const items = this.expandItems();
    const limit = this.accept("limit") ? this.expr() : undefined;
    return { k: "mv-expand", items, ...(limit ? { limit } : {}), pos };
  }
}
