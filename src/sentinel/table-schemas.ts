import type { KqlSchema } from "../kql/analyzer.js";
import { LOG_TABLES, STORED_FUNCTIONS } from "../workspace/schemas.js";

/**
 * The table schemas KQL is analysed against for policy. They are the local workspace's tables (real Sentinel column
 * names); against Azure, a query using a column outside them is refused as not analysable rather than run unchecked.
 */
export const SENTINEL_TABLE_SCHEMAS: KqlSchema = {
  tables: Object.entries(LOG_TABLES).map(([name, columns]) => ({ name, columns })),
  functions: Object.entries(STORED_FUNCTIONS).map(([name, body]) => ({ name, body })),
};
