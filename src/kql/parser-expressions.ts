import type { Expr, NamedExpr, Tabular } from "./ast.js";
import { TokenCursor } from "./parser-cursor.js";
import { parseDatetime, parseTimespan } from "./values.js";

// Scalar expressions: precedence levels (or, and, comparisons and string predicates, + -, * / %, unary), literals
// (numbers, strings, timespans, datetime(), dynamic(), typed literals such as long(5)), calls and member access.

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

/** Deprecated spellings real content still uses, read as their current names (as Kusto does). */
export const LEGACY_ALIASES: Readonly<Record<string, string>> = Object.assign(Object.create(null), {
  makeset: "make_set",
  makelist: "make_list",
  makeset_if: "make_set_if",
  makelist_if: "make_list_if",
  parsejson: "parse_json",
  argmin: "arg_min",
  argmax: "arg_max",
  arraylength: "array_length",
});

export abstract class ExprParser extends TokenCursor {
  /** Names bound by `let` to tabular values or tabular functions, so `x in (T)` and `let y = f(...)` read as tables. */
  protected readonly tabularNames = new Set<string>();
  protected abstract tabular(): Tabular;

  /** After `in (`: a tabular expression (`T | ...`, a tabular let name, a subquery) rather than a value list. */
  protected inTabularAhead(): boolean {
    const t = this.t;
    if (t.kind !== "ident") return false;
    const next = this.peek().text;
    if (next === "|") return true;
    return this.tabularNames.has(t.text) && next === ")";
  }

  protected namedList(): NamedExpr[] {
    const out: NamedExpr[] = [this.named()];
    while (this.accept(",")) out.push(this.named());
    return out;
  }

  protected named(): NamedExpr {
    if (this.t.text === "(" && this.peek().kind === "ident" && [",", ")"].includes(this.peek(2).text)) {
      // `(a, b, c) = f(...)`: a function returning several columns, named in order.
      let j = 1;
      while (this.peek(j).kind === "ident" && this.peek(j + 1).text === ",") j += 2;
      if (this.peek(j).kind === "ident" && this.peek(j + 1).text === ")" && this.peek(j + 2).text === "=") {
        this.i++;
        const names = [this.ident().text];
        while (this.accept(",")) names.push(this.ident().text);
        this.eat(")");
        this.eat("=");
        return { names, e: this.expr() };
      }
    }
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
      if (w === "in" && this.inTabularAhead()) {
        const t = this.tabular();
        this.eat(")");
        return { k: "in", e: l, list: [], tabular: t, negate, ci, pos };
      }
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
  protected add(): Expr {
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
        if (lower === "typeof" && this.t.kind === "ident" && this.peek().text === ")") {
          // typeof(string) as an argument (extractjson's result type): the type's name.
          const name = this.toks[this.i++]!.text.toLowerCase();
          this.eat(")");
          return { k: "lit", v: name, type: "string", pos };
        }
        if (lower === "dynamic") {
          const v = this.dynamicValue();
          this.eat(")");
          return { k: "dyn", v, pos };
        }
        const args: Expr[] = [];
        if (lower === "toscalar" && (this.inTabularAhead() || (this.t.text as string) === "(")) {
          // toscalar(T | ...): the first column of the first row of a tabular expression.
          const sub = this.tabular();
          this.eat(")");
          return { k: "toscalar", t: sub, pos };
        }
        if ((this.t.text as string) !== ")") {
          args.push(this.callArg());
          while (this.accept(",")) args.push(this.callArg());
        }
        this.eat(")");
        e = { k: "call", name: LEGACY_ALIASES[lower] ?? lower, args, pos };
      } else e = { k: "col", name: t.text, pos };
      // Member access on dynamic values: d.a.b, d["x"], d[0].
      for (;;) {
        if (this.t.text === "." && this.peek().text === "[") {
          this.i++; // d.[0] and d.["key"] are d[0] and d["key"]
          continue;
        }
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
