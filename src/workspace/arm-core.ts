// What every ARM route module shares: the error type, the request shape, and the OData $filter/$orderby subset.
// Kept apart from the dispatcher (arm.ts) so the route modules and the dispatcher do not import each other.

export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** `innererror` of the response body (the query API's detail: code, line, position). */
    readonly inner?: unknown,
    /** Seconds for the Retry-After header (429). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export interface ArmRequest {
  method: string;
  /** Path below .../providers/Microsoft.SecurityInsights/, split: ["incidents", id, "alerts"]. */
  segments: string[];
  query: URLSearchParams;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  baseUrl: string;
}

/** OData $filter subset the real incidents API supports: `properties/x eq 'v'` joined with and/or. */
export function compileFilter(filter: string | null): (p: Record<string, unknown>) => boolean {
  if (!filter) return () => true;
  const clauses = filter.split(/\s+or\s+/i).map((alt) =>
    alt.split(/\s+and\s+/i).map((c) => {
      const m = /^\(?\s*properties\/(\w+)\s+(eq|ne)\s+'([^']*)'\s*\)?$/i.exec(c.trim());
      if (!m)
        throw new ArmError(
          400,
          "BadRequest",
          `unsupported $filter clause "${c.trim()}": use properties/<field> eq '<value>'`,
        );
      return { field: m[1]!, neg: m[2]!.toLowerCase() === "ne", value: m[3]! };
    }),
  );
  return (p) => clauses.some((all) => all.every((c) => (String(p[c.field] ?? "") === c.value) !== c.neg));
}

export function compileOrder(
  orderby: string | null,
): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  if (!orderby) return () => 0;
  const m = /^properties\/(\w+)(?:\s+(asc|desc))?$/i.exec(orderby.trim());
  if (!m) throw new ArmError(400, "BadRequest", `unsupported $orderby "${orderby}": use properties/<field> [asc|desc]`);
  const field = m[1]!;
  const dir = m[2]?.toLowerCase() === "desc" ? -1 : 1;
  return (a, b) => {
    const x = a[field] as string | number;
    const y = b[field] as string | number;
    return x === y ? 0 : (x < y ? -1 : 1) * dir;
  };
}
