import { readFileSync } from "node:fs";
import type { KqlDataSource, KqlTable, KqlValue } from "../kql/types.js";
import type { AgentSecurityEvent } from "../types/agent-security-event.js";
import { LOG_TABLES, STORED_FUNCTIONS } from "../workspace/schemas.js";

/** AgentSecurityEvents as the AgentSecurityEvent_CL table, typed as Log Analytics would store them. */
export function eventsTable(events: AgentSecurityEvent[]): KqlTable {
  const columns = LOG_TABLES.AgentSecurityEvent_CL!;
  const rows = events.map((e) =>
    columns.map((c): KqlValue => {
      const v = (e as unknown as Record<string, unknown>)[c.name];
      if (v === undefined || v === null) return null;
      if (c.type === "datetime") return Date.parse(String(v));
      if (c.type === "int" || c.type === "long" || c.type === "real") return Number(v);
      return v as KqlValue;
    }),
  );
  return { name: "AgentSecurityEvent_CL", columns, rows };
}

export function readEventsFile(path: string): AgentSecurityEvent[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AgentSecurityEvent);
}

/** A data source holding only the agent telemetry, with the documented `AgentSecurityEvent` function. */
export function eventsSource(events: AgentSecurityEvent[]): KqlDataSource {
  const t = eventsTable(events);
  return {
    table: (name) => (name === "AgentSecurityEvent_CL" ? t : undefined),
    tableNames: () => ["AgentSecurityEvent_CL"],
    storedFunction: (name) => STORED_FUNCTIONS[name],
  };
}
