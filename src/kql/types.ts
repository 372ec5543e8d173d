// The contract between the KQL engine (src/kql) and whoever stores the data (src/workspace).
// Kept small and stable: both sides are built against it independently.

/** Kusto scalar types as they appear in Log Analytics query results. */
export type KqlType =
  | "string"
  | "int"
  | "long"
  | "real"
  | "decimal"
  | "bool"
  | "datetime"
  | "timespan"
  | "guid"
  | "dynamic";

export interface KqlColumn {
  name: string;
  type: KqlType;
}

/**
 * A value inside the engine and at this boundary:
 *  string/guid -> string, int/long/real/decimal -> number, bool -> boolean,
 *  datetime -> number (epoch milliseconds, UTC), timespan -> number (milliseconds),
 *  dynamic -> any JSON value (object, array, string, number, boolean, null), missing -> null.
 */
export type KqlValue = string | number | boolean | null | KqlDynamic;
export type KqlDynamic = { [key: string]: unknown } | unknown[];

/**
 * A table: column schema plus rows, each row an array aligned with `columns`. A stored row may carry one element
 * more, after its columns: the time it was ingested (epoch ms), the hidden column ingestion_time() reads. The engine
 * moves that element off the row the first time it scans it (ingestion.ts), so it never appears as a column.
 */
export interface KqlTable {
  name: string;
  columns: KqlColumn[];
  rows: KqlValue[][];
}

/** Where the engine gets tables and stored functions from. */
export interface KqlDataSource {
  /** The table by exact (case-sensitive) name, or undefined when it does not exist. */
  table(name: string): KqlTable | undefined;
  /** Names of all tables, for schema-aware analysis and `union` resolution. */
  tableNames(): string[];
  /** Body of a saved function (e.g. `AgentSecurityEvent` -> `AgentSecurityEvent_CL | ...`), if any. */
  storedFunction?(name: string): string | undefined;
}

export interface KqlExecuteOptions {
  /** The value of now() for the whole query (fixed per query, as in Kusto). Default: Date.now(). */
  now?: number;
  /**
   * Hard time bound, like the Log Analytics API `timespan`: every table scan keeps only rows whose
   * TimeGenerated (epoch ms) lies in [start, end). Tables without TimeGenerated are not filtered.
   */
  timespan?: { start: number; end: number };
  /**
   * Tables the timespan does not bound (e.g. ["Watchlist"]: Sentinel analytics rules look watchlists up whatever the
   * rule's query period). Default: none.
   */
  unboundedTables?: readonly string[];
  /**
   * The workspace as it stood at this time (epoch ms): rows ingested later (by their hidden ingestion time) are not
   * yet visible. Rows without an ingestion time are always visible. Default: every row.
   */
  ingestedBy?: number;
  /** Stop with an error when a result would exceed this many rows (guards memory). */
  maxResultRows?: number;
  /**
   * Stop with a "limit" error when an intermediate result (join, mv-expand, make-series, range, union, ...) would
   * exceed this many rows. Default: DEFAULT_MAX_INTERMEDIATE_ROWS.
   */
  maxIntermediateRows?: number;
}

export interface KqlResult {
  columns: KqlColumn[];
  rows: KqlValue[][];
  /**
   * Every table and stored function the engine actually read while executing (sorted, no duplicates), recorded at
   * the point of reading, so the server can check read ⊆ analysed ⊆ allowed.
   */
  reads: { tables: string[]; storedFunctions: string[] };
}

/** Structured failure: the construct that is unsupported or wrong, and where. */
export interface KqlErrorInfo {
  code: "syntax" | "unsupported" | "semantic" | "limit";
  message: string;
  /** 1-based line and column of the offending construct, when known. */
  line?: number;
  column?: number;
}
