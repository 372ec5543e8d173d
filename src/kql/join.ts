import { type Ctx, checkSize, colIndex, fail, type Table } from "./context.js";
import type { Op } from "./parser.js";
import { groupKey, multiKey, type Row } from "./values.js";

type JoinOp = Extract<Op, { k: "join" }>;

/**
 * Kusto join: hash join on equality keys. innerunique (the default) keeps one left row per key (the first);
 * right columns whose names clash with left ones get a numeric suffix (TimeGenerated → TimeGenerated1).
 */
export function join(op: JoinOp, left: Table, right: Table, ctx: Ctx, what = "join"): Table {
  const li = op.on.map((o) => colIndex(left.columns, o.left, ctx, op.pos));
  const ri = op.on.map((o) => colIndex(right.columns, o.right, ctx, op.pos));
  const key =
    li.length === 1
      ? (r: Row, idx: number[]) => groupKey(r[idx[0]!] ?? null)
      : (r: Row, idx: number[]) => multiKey(idx.map((i) => r[i] ?? null));
  const kind = op.kind;
  switch (kind) {
    case "leftanti":
    case "leftantisemi":
    case "leftsemi": {
      const keys = new Set(right.rows.map((r) => key(r, ri)));
      const keep = kind === "leftsemi";
      return { columns: left.columns, rows: left.rows.filter((r) => keys.has(key(r, li)) === keep) };
    }
    case "rightanti":
    case "rightantisemi":
    case "rightsemi": {
      const keys = new Set(left.rows.map((r) => key(r, li)));
      const keep = kind === "rightsemi";
      return { columns: right.columns, rows: right.rows.filter((r) => keys.has(key(r, ri)) === keep) };
    }
    case "inner":
    case "innerunique":
    case "leftouter":
    case "rightouter":
    case "fullouter":
      break;
    default:
      fail(ctx, "unsupported", `join kind "${kind}" is not supported by the local engine`, op.pos);
  }
  let lrows = left.rows;
  if (kind === "innerunique") {
    const seen = new Set<unknown>();
    lrows = lrows.filter((r) => {
      const k = key(r, li);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  const index = new Map<unknown, Row[]>();
  for (const r of right.rows) {
    const k = key(r, ri);
    const list = index.get(k);
    if (list) list.push(r);
    else index.set(k, [r]);
  }
  const names = new Set(left.columns.map((c) => c.name));
  const rightCols = right.columns.map((c) => {
    let name = c.name;
    for (let n = 1; names.has(name); n++) name = `${c.name}${n}`;
    names.add(name);
    return { ...c, name };
  });
  const rows: Row[] = [];
  const leftNulls = left.columns.map(() => null);
  const rightNulls = right.columns.map(() => null);
  const matchedRight = new Set<Row>();
  const keepUnmatchedLeft = kind === "leftouter" || kind === "fullouter";
  for (const l of lrows) {
    const matches = index.get(key(l, li));
    // Counted before materialising: a many-to-many key can multiply rows far past memory.
    checkSize(ctx, rows.length + (matches ? matches.length : keepUnmatchedLeft ? 1 : 0), what, op.pos);
    if (matches) {
      for (const r of matches) {
        rows.push([...l, ...r]);
        matchedRight.add(r);
      }
    } else if (keepUnmatchedLeft) rows.push([...l, ...rightNulls]);
  }
  if (kind === "rightouter" || kind === "fullouter") {
    checkSize(ctx, rows.length + right.rows.length - matchedRight.size, what, op.pos);
    for (const r of right.rows) if (!matchedRight.has(r)) rows.push([...leftNulls, ...r]);
  }
  return { columns: [...left.columns, ...rightCols], rows };
}
