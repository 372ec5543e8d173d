import alertsList from "./alerts/list.js";
import governanceExplain from "./governance/explain.js";
import governanceWhoami from "./governance/whoami.js";
import incidentsAlerts from "./incidents/alerts.js";
import incidentsClose from "./incidents/close.js";
import incidentsGet from "./incidents/get.js";
import incidentsList from "./incidents/list.js";
import kqlQuery from "./kql/query.js";
import { type ToolDef, toolNameFor } from "./types.js";

/** The catalog: every tool this server can expose. Manifests and docs are generated from it. */
export const TOOLS: ToolDef[] = [
  incidentsList,
  incidentsGet,
  incidentsAlerts,
  alertsList,
  kqlQuery,
  incidentsClose,
  governanceExplain,
  governanceWhoami,
] as unknown as ToolDef[];

const byName = new Map(TOOLS.map((t) => [toolNameFor(t.op), t]));
const byOp = new Map(TOOLS.map((t) => [t.op, t]));

export function toolByName(name: string): ToolDef | undefined {
  return byName.get(name);
}

export function toolByOp(op: string): ToolDef | undefined {
  return byOp.get(op);
}

export const KNOWN_OPS = TOOLS.map((t) => t.op);
