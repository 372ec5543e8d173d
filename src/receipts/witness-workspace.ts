import type { HomeConfig, HomePaths } from "../governance/home.js";
import type { SentinelBackend } from "../sentinel/backend.js";
import { parseCheckpoint } from "./checkpoint.js";
import type { CheckpointSource } from "./verify-checkpoints.js";

// The workspace as a witness: the Checkpoint AgentSecurityEvents the server published (telemetry.sink), read back
// through the configured Log Analytics backend (the embedded workspace, or Azure with the same credentials as serve)
// and ordered by the workspace's own receive time, ingestion_time(), not TimeGenerated (which the sender sets).

export const WORKSPACE_WITNESS = "workspace";
export const WORKSPACE_WITNESS_NAME = "workspace AgentSecurityEvent_CL";
/** How far back the workspace is read: the API's timespan is a hard bound, and retention is the real one. */
export const WORKSPACE_WITNESS_TIMESPAN = "P3650D";

/** KQL string literal (double-quoted, backslash escapes). */
const kqlString = (s: string) => JSON.stringify(s);

/** The query: this log's Checkpoint events (by the note's signed origin line), in ingestion order. */
export function workspaceWitnessQuery(origin: string): string {
  return [
    "AgentSecurityEvent_CL",
    '| where EventType == "Checkpoint"',
    "| extend Note = tostring(ToolParameters.checkpoint), Ingested = ingestion_time()",
    `| where Note startswith ${kqlString(`${origin}\n`)}`,
    "| order by Ingested asc",
    "| project Note, Ingested",
  ].join("\n");
}

/**
 * The notes as one checkpoints text (each note followed by a blank line, as parseCheckpointsFile reads it), in the
 * workspace's receive order. Rows received together (the same ingestion time: one upload batch) carry no order
 * between them: they are put in size order, so a batch never reads as a regression.
 */
export function notesInReceiveOrder(rows: unknown[][]): string {
  const notes = rows
    .map((r, i) => {
      const note = typeof r[0] === "string" ? r[0] : "";
      const at = r[1] === null || r[1] === undefined ? null : Date.parse(String(r[1]));
      let size = -1;
      try {
        size = parseCheckpoint(note.endsWith("\n") ? note : `${note}\n`).size;
      } catch {}
      return { note, at: at === null || Number.isNaN(at) ? null : at, size, i };
    })
    .filter((n) => n.note.trim() !== "");
  const key = (n: { at: number | null }) => n.at ?? Number.NEGATIVE_INFINITY; // Kusto: nulls first, ascending
  notes.sort((a, b) => key(a) - key(b) || a.size - b.size || a.i - b.i);
  return notes.map((n) => (n.note.endsWith("\n") ? n.note : `${n.note}\n`)).join("\n");
}

export class WorkspaceWitnessError extends Error {}

/** Reads the workspace's Checkpoint events of `origin` through `backend` as a CheckpointSource. */
export async function workspaceCheckpointSource(backend: SentinelBackend, origin: string): Promise<CheckpointSource> {
  let table: Awaited<ReturnType<SentinelBackend["queryLogs"]>>;
  try {
    table = await backend.queryLogs(workspaceWitnessQuery(origin), WORKSPACE_WITNESS_TIMESPAN, {
      serverTimeoutSeconds: 120,
    });
  } catch (e) {
    throw new WorkspaceWitnessError(`the workspace cannot be queried: ${(e as Error).message}`);
  }
  const note = table.columns.findIndex((c) => c.name === "Note");
  const ingested = table.columns.findIndex((c) => c.name === "Ingested");
  if (note < 0 || ingested < 0)
    throw new WorkspaceWitnessError(
      `the workspace answered without the Note and Ingested columns (got: ${table.columns.map((c) => c.name).join(", ")})`,
    );
  return {
    name: WORKSPACE_WITNESS_NAME,
    text: notesInReceiveOrder(table.rows.map((r) => [r[note], r[ingested]])),
  };
}

/**
 * Opens the home's configured backend (GSMCP_BACKEND, else config.backend: the embedded workspace is started on a
 * loopback port, Azure uses the same credentials and endpoints as serve), reads the source and closes the backend.
 */
export async function readWorkspaceWitness(
  paths: HomePaths,
  config: HomeConfig,
  origin: string,
): Promise<CheckpointSource> {
  const kind = (process.env.GSMCP_BACKEND as "local" | "azure" | undefined) ?? config.backend;
  const { openBackend } = await import("../sentinel/open.js");
  let backend: SentinelBackend;
  try {
    backend = await openBackend(paths, kind);
  } catch (e) {
    throw new WorkspaceWitnessError(`the ${kind} workspace cannot be opened: ${(e as Error).message}`);
  }
  try {
    return await workspaceCheckpointSource(backend, origin);
  } finally {
    await backend.close().catch(() => {});
  }
}
