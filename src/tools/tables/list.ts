import { z } from "zod";
import { SENTINEL_TABLE_SCHEMAS } from "../../sentinel/table-schemas.js";
import { defineTool } from "../types.js";

export default defineTool({
  op: "tables.list",
  title: "List queryable tables",
  description:
    "List the Log Analytics tables this job may query (filtered by the policy's allowed tables), with column counts.",
  input: z.strictObject({}),
  output: z.object({
    tables: z.array(z.object({ name: z.string(), columns: z.number() })),
    filteredByPolicy: z.boolean(),
  }),
  effects: { readOnly: true, destructive: false, idempotent: true, openWorld: false },
  rbac: { role: "none", actions: [], note: "served from this server's table schemas; nothing is sent to Azure" },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only." },
  async run(_args, ctx) {
    const allowed = ctx.governance?.kqlAllowedTables();
    const tables = SENTINEL_TABLE_SCHEMAS.tables
      .filter((t) => !allowed || allowed.includes(t.name))
      .map((t) => ({ name: t.name, columns: t.columns.length }));
    return { tables, filteredByPolicy: allowed !== undefined };
  },
});
