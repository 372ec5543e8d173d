import alertRuleTemplatesGet from "./alertRuleTemplates/get.js";
import alertRuleTemplatesList from "./alertRuleTemplates/list.js";
import alertsList from "./alerts/list.js";
import analyticsRulesCreate from "./analyticsRules/create.js";
import analyticsRulesDisable from "./analyticsRules/disable.js";
import analyticsRulesGet from "./analyticsRules/get.js";
import analyticsRulesList from "./analyticsRules/list.js";
import analyticsRulesUpdate from "./analyticsRules/update.js";
import automationRulesDisable from "./automationRules/disable.js";
import automationRulesList from "./automationRules/list.js";
import automationRulesUpdate from "./automationRules/update.js";
import bookmarksCreate from "./bookmarks/create.js";
import bookmarksList from "./bookmarks/list.js";
import dataConnectorsList from "./dataConnectors/list.js";
import entitiesGet from "./entities/get.js";
import entitiesInsights from "./entities/insights.js";
import entitiesTimeline from "./entities/timeline.js";
import governanceExplain from "./governance/explain.js";
import governanceWhoami from "./governance/whoami.js";
import huntingQueriesList from "./huntingQueries/list.js";
import huntingQueriesRun from "./huntingQueries/run.js";
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
import threatIntelligenceIndicatorsList from "./threatIntelligence/indicators-list.js";
import threatIntelligenceIndicatorsQuery from "./threatIntelligence/indicators-query.js";
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
  huntingQueriesList,
  huntingQueriesRun,
  bookmarksList,
  entitiesGet,
  entitiesTimeline,
  entitiesInsights,
  threatIntelligenceIndicatorsList,
  threatIntelligenceIndicatorsQuery,
  alertRuleTemplatesList,
  alertRuleTemplatesGet,
  dataConnectorsList,
  incidentsUpdate,
  incidentsClose,
  incidentsCommentsAdd,
  analyticsRulesCreate,
  analyticsRulesUpdate,
  analyticsRulesDisable,
  automationRulesUpdate,
  automationRulesDisable,
  watchlistsItemsAdd,
  bookmarksCreate,
  governanceExplain,
  governanceWhoami,
];

const byName = new Map(TOOLS.map((t) => [toolNameFor(t.op), t]));
const byOp = new Map(TOOLS.map((t) => [t.op, t]));

export function toolByName(name: string): ToolDef | undefined {
  return byName.get(name);
}

export function toolByOp(op: string): ToolDef | undefined {
  return byOp.get(op);
}

export const KNOWN_OPS = TOOLS.map((t) => t.op);
