import { z } from "zod";
import { GovernanceError } from "../../governance/errors.js";
import { SENTINEL_TABLE_SCHEMAS } from "../../sentinel/table-schemas.js";
import { defineTool } from "../types.js";

export default defineTool({
  op: "tables.schema",
  title: "Get a table's schema",
  description: "Column names and types of one table this job may query — what an agent needs to write correct KQL.",
  input: z.strictObject({ table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/) }),
  output: z.object({ table: z.string(), columns: z.array(z.object({ name: z.string(), type: z.string() })) }),
  effects: { readOnly: true, destructive: false, idempotent: true, openWorld: false },
  rbac: { role: "none", actions: [], note: "served from this server's table schemas; nothing is sent to Azure" },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only." },
  async run(args, ctx) {
    const allowed = ctx.governance?.kqlAllowedTables();
    const t = SENTINEL_TABLE_SCHEMAS.tables.find((x) => x.name === args.table);
    // A table outside the policy is reported exactly like a missing one: the agent learns nothing about it.
    if (!t || (allowed && !allowed.includes(t.name)))
      throw new GovernanceError("invalid_arguments", `no queryable table "${args.table}"`, "see sentinel_tables_list");
    return { table: t.name, columns: t.columns.map((c) => ({ name: c.name, type: c.type })) };
  },
});
