import type { Expr, NamedExpr } from "./parser.js";

// Kusto's default output column names for unnamed expressions.

const NAME_PRESERVING = new Set([
  "tostring",
  "toint",
  "tolong",
  "todouble",
  "toreal",
  "tobool",
  "todatetime",
  "totimespan",
  "todynamic",
  "bin",
  "floor",
  "bin_at",
]);

/** The name Kusto derives from an expression: a column, a dynamic path (d.a.b → d_a_b), or a cast/bin of one. */
export function derivedName(e: Expr): string | undefined {
  if (e.k === "col") return e.name;
  if (e.k === "member") {
    const base = derivedName(e.e);
    if (base && e.key.k === "lit" && (typeof e.key.v === "string" || typeof e.key.v === "number"))
      return `${base}_${e.key.v}`;
    return undefined;
  }
  if (e.k === "call" && NAME_PRESERVING.has(e.name) && e.args[0]) return derivedName(e.args[0]);
  return undefined;
}

/** Names for a project/extend/by list: explicit, derived, else Column1, Column2, … skipping names already taken. */
export function outputNames(items: NamedExpr[], taken: Iterable<string> = []): string[] {
  const used = new Set(taken);
  let n = 0;
  return items.map((it) => {
    let name = it.name ?? derivedName(it.e);
    if (!name) {
      do name = `Column${++n}`;
      while (used.has(name));
    }
    used.add(name);
    return name;
  });
}
