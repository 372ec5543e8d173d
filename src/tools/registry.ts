import alertsList from "./alerts/list.js";
import analyticsRulesCreate from "./analyticsRules/create.js";
import analyticsRulesDisable from "./analyticsRules/disable.js";
import analyticsRulesGet from "./analyticsRules/get.js";
import analyticsRulesList from "./analyticsRules/list.js";
import analyticsRulesUpdate from "./analyticsRules/update.js";
import automationRulesDisable from "./automationRules/disable.js";
import automationRulesList from "./automationRules/list.js";
import automationRulesUpdate from "./automationRules/update.js";
import governanceExplain from "./governance/explain.js";
import governanceWhoami from "./governance/whoami.js";
import incidentsAlerts from "./incidents/alerts.js";
import incidentsClose from "./incidents/close.js";
import incidentsCommentsAdd from "./incidents/comments-add.js";
import incidentsCommentsList from "./incidents/comments-list.js";
import incidentsEntities from "./incidents/entities.js";
import incidentsGet from "./incidents/get.js";
import incidentsList from "./incidents/list.js";
import incidentsUpdate from "./incidents/update.js";
import kqlQuery from "./kql/query.js";
import kqlValidate from "./kql/validate.js";
import tablesList from "./tables/list.js";
import tablesSchema from "./tables/schema.js";
import { type ToolDef, toolNameFor } from "./types.js";
import watchlistsItems from "./watchlists/items.js";
import watchlistsItemsAdd from "./watchlists/items-add.js";
import watchlistsList from "./watchlists/list.js";

/** The catalog: every tool this server can expose. Manifests and docs are generated from it. */
export const TOOLS: ToolDef[] = [
  incidentsList,
  incidentsGet,
  incidentsAlerts,
  incidentsEntities,
  incidentsCommentsList,
  alertsList,
  kqlQuery,
  kqlValidate,
  tablesList,
  tablesSchema,
  analyticsRulesList,
  analyticsRulesGet,
  automationRulesList,
  watchlistsList,
  watchlistsItems,
  incidentsUpdate,
  incidentsClose,
  incidentsCommentsAdd,
  analyticsRulesCreate,
  analyticsRulesUpdate,
  analyticsRulesDisable,
  automationRulesUpdate,
  automationRulesDisable,
  watchlistsItemsAdd,
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
