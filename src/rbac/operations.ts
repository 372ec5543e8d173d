// Azure RBAC operation names this server relies on: facts, each with where it was read. Nothing here is invented; a
// name is either in Microsoft's published operation list (PUBLISHED), derived from a REST call by Azure Resource
// Manager's naming rule and missing from that list (DERIVED, each with the call it comes from), or a per-table query
// action built from the documented template (tableQueryAction). `operationFact` is the one lookup: a tool declaring an
// action it does not find fails the registry test (test/rbac/operations.test.ts).

export type OperationKind = "action" | "dataAction";

export interface OperationSource {
  title: string;
  url: string;
  /** Where the text was read: repository, path and commit (MicrosoftDocs/azure-docs is the source of learn.microsoft.com). */
  repo: string;
  path: string;
  commit?: string;
  /** The page's ms.date. */
  date: string;
}

export const SOURCES = {
  "permissions-security": {
    title: "Azure permissions for Security (Microsoft.SecurityInsights)",
    url: "https://learn.microsoft.com/azure/role-based-access-control/permissions/security#microsoftsecurityinsights",
    repo: "MicrosoftDocs/azure-docs",
    path: "articles/role-based-access-control/permissions/security.md",
    commit: "7d8682a53ed0bf43fb26b5f445de396d78e7fb69",
    date: "2024-04-25",
  },
  "permissions-monitor": {
    title: "Azure permissions for Monitor (Microsoft.OperationalInsights, Microsoft.Insights)",
    url: "https://learn.microsoft.com/azure/role-based-access-control/permissions/monitor#microsoftoperationalinsights",
    repo: "MicrosoftDocs/azure-docs",
    path: "articles/role-based-access-control/permissions/monitor.md",
    commit: "488eb1bf6987b836277064a978a39656774bf0d7",
    date: "2024-04-25",
  },
  "manage-access": {
    title: "Manage access to Log Analytics workspaces (workspace permissions, table-level read access)",
    url: "https://learn.microsoft.com/azure/azure-monitor/logs/manage-access",
    repo: "MicrosoftDocs/azure-docs",
    path: "articles/azure-monitor/logs/manage-access.md",
    date: "2022-10-06",
  },
  "builtin-security": {
    title: "Azure built-in roles for Security (Microsoft Sentinel Reader, Responder, Contributor)",
    url: "https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security",
    repo: "MicrosoftDocs/azure-docs",
    path: "articles/role-based-access-control/built-in-roles/security.md",
    commit: "9772bfe3ed75f1e87098b298f2efbd4ef84f6f74",
    date: "2025-01-25",
  },
  "builtin-monitor": {
    title: "Azure built-in roles for Monitor (Monitoring Metrics Publisher)",
    url: "https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor#monitoring-metrics-publisher",
    repo: "MicrosoftDocs/azure-docs",
    path: "articles/role-based-access-control/built-in-roles/monitor.md",
    date: "2025-01-25",
  },
  "arm-sdk": {
    title:
      "@azure/arm-securityinsight 1.0.0-beta.6 operation specs (api-version 2022-09-01-preview): method and path of each call",
    url: "https://www.npmjs.com/package/@azure/arm-securityinsight/v/1.0.0-beta.6",
    repo: "Azure/azure-sdk-for-js",
    path: "sdk/securityinsight/arm-securityinsight/src/operations/",
    date: "2022-10-21",
  },
} as const satisfies Record<string, OperationSource>;

export type SourceId = keyof typeof SOURCES;

export interface OperationFact {
  /** As Microsoft spells it (matching is case-insensitive, as Azure's). */
  name: string;
  kind: OperationKind;
  description: string;
  source: SourceId;
  /** DERIVED only: the REST call ARM authorizes with this name. */
  derivedFrom?: string;
}

const op = (source: SourceId, kind: OperationKind, rows: [string, string][]): OperationFact[] =>
  rows.map(([name, description]) => ({ name, kind, description, source }));

const SI = "Microsoft.SecurityInsights";
const OI = "Microsoft.OperationalInsights/workspaces";

/**
 * Microsoft.SecurityInsights, the whole published list (permissions-security). The excess report measures what an
 * identity may do against it, so it is complete rather than only what our tools use.
 */
const SECURITY_INSIGHTS = op(
  "permissions-security",
  "action",
  [
    ["register/action", "Registers the subscription to Azure Sentinel"],
    ["unregister/action", "Unregisters the subscription from Azure Sentinel"],
    ["dataConnectorsCheckRequirements/action", "Check user authorization and license"],
    ["contentTranslators/action", "Check a translation of content"],
    ["Aggregations/read", "Gets aggregated information"],
    ["alertRules/read", "Gets the alert rules"],
    ["alertRules/write", "Updates alert rules"],
    ["alertRules/delete", "Deletes alert rules"],
    ["alertRules/triggerRuleRun/action", "Trigger on-demand rule run execution"],
    ["alertRules/actions/read", "Gets the response actions of an alert rule"],
    ["alertRules/actions/write", "Updates the response actions of an alert rule"],
    ["alertRules/actions/delete", "Deletes the response actions of an alert rule"],
    ["automationRules/read", "Gets an automation rule"],
    ["automationRules/write", "Updates an automation rule"],
    ["automationRules/delete", "Deletes an automation rule"],
    ["BillingStatistics/read", "Read BillingStatistics"],
    ["Bookmarks/read", "Gets bookmarks"],
    ["Bookmarks/write", "Updates bookmarks"],
    ["Bookmarks/delete", "Deletes bookmarks"],
    ["Bookmarks/expand/action", "Gets related entities of an entity by a specific expansion"],
    ["bookmarks/relations/read", "Gets a bookmark relation"],
    ["bookmarks/relations/write", "Updates a bookmark relation"],
    ["bookmarks/relations/delete", "Deletes a bookmark relation"],
    ["businessApplicationAgents/read", "Gets a Business Application Agent"],
    ["businessApplicationAgents/write", "Create or Updates a Business Application Agent"],
    ["businessApplicationAgents/delete", "Deletes a Business Application Agent"],
    ["businessApplicationAgents/systems/read", "Gets a System of a Business Application Agent"],
    ["businessApplicationAgents/systems/write", "Create or Updates a System of a Business Application Agent"],
    ["businessApplicationAgents/systems/delete", "Deletes a System of a Business Application Agent"],
    ["businessApplicationAgents/systems/listActions/action", "Lists the actions of a system"],
    ["businessApplicationAgents/systems/reportActionStatus/action", "Reports the status of an action"],
    ["businessApplicationAgents/systems/undoAction/action", "Undoes an action"],
    ["cases/read", "Gets a case"],
    ["cases/write", "Updates a case"],
    ["cases/delete", "Deletes a case"],
    ["cases/comments/read", "Gets the case comments"],
    ["cases/comments/write", "Creates the case comments"],
    ["cases/investigations/read", "Gets the case investigations"],
    ["cases/investigations/write", "Updates the metadata of a case"],
    ["ConfidentialWatchlists/read", "Gets Confidential Watchlists"],
    ["ConfidentialWatchlists/write", "Creates Confidential Watchlists"],
    ["ConfidentialWatchlists/delete", "Deletes Confidential Watchlists"],
    ["ContentPackages/read", "Read available Content Packages."],
    ["ContentPackages/write", "Install or uninstall Content Packages."],
    ["ContentTemplates/read", "Read installed Content Templates."],
    ["ContentTemplates/delete", "Delete installed Content Templates."],
    ["dataConnectors/read", "Gets the data connectors"],
    ["dataConnectors/write", "Updates a data connector"],
    ["dataConnectors/delete", "Deletes a data connector"],
    ["enrichment/domain/whois/read", "Get whois enrichment for a domain"],
    ["enrichment/ip/geodata/read", "Get geodata enrichment for an IP"],
    ["entities/read", "Gets the sentinel entities graph"],
    ["entities/gettimeline/action", "Gets entity timeline for a specific range"],
    ["entities/getInsights/action", "Gets entity Insights for a specific range"],
    ["entities/runPlaybook/action", "Run playbook on entity"],
    ["entities/relations/read", "Gets a relation between the entity and related resources"],
    ["entities/relations/write", "Updates a relation between the entity and related resources"],
    ["entities/relations/delete", "Deletes a relation between the entity and related resources"],
    ["entityQueries/read", "Gets the investigation expansions for entities"],
    ["ExportConnections/read", "Read ExportConnections"],
    ["ExportConnections/write", "write ExportConnections"],
    ["ExportConnections/delete", "Delete ExportConnections"],
    ["ExportConnections/ExportJobs/read", "Read ExportJobs"],
    ["ExportConnections/ExportJobs/write", "write ExportJobs"],
    ["ExportConnections/ExportJobs/delete", "Delete ExportJobs"],
    ["fileimports/read", "Reads File Import objects"],
    ["fileimports/write", "Creates or updates a File Import"],
    ["fileimports/delete", "Deletes a File Import"],
    ["hunts/read", "Get Hunts"],
    ["hunts/write", "Create Hunts"],
    ["hunts/delete", "Deletes Hunts"],
    ["hunts/comments/read", "Get Hunt Comments"],
    ["hunts/comments/write", "Create Hunt Comments"],
    ["hunts/comments/delete", "Deletes Hunt Comments"],
    ["hunts/relations/read", "Get Hunt Relations"],
    ["hunts/relations/write", "Create Hunt Relations"],
    ["hunts/relations/delete", "Deletes Hunt Relations"],
    ["incidents/read", "Gets an incident"],
    ["incidents/write", "Updates an incident"],
    ["incidents/delete", "Deletes an incident"],
    ["incidents/createTeam/action", "Creates a Microsoft team to investigate the incident"],
    ["incidents/runPlaybook/action", "Run playbook on incident"],
    ["incidents/comments/read", "Gets the incident comments"],
    ["incidents/comments/write", "Creates a comment on the incident"],
    ["incidents/comments/delete", "Deletes a comment on the incident"],
    ["incidents/relations/read", "Gets a relation between the incident and related resources"],
    ["incidents/relations/write", "Updates a relation between the incident and related resources"],
    ["incidents/relations/delete", "Deletes a relation between the incident and related resources"],
    ["incidents/tasks/read", "Gets a task on the incident"],
    ["incidents/tasks/write", "Updates a task on the incident"],
    ["incidents/tasks/delete", "Deletes a task on the incident"],
    ["Metadata/read", "Read Metadata for Sentinel content."],
    ["Metadata/write", "Write Metadata for Sentinel content."],
    ["Metadata/delete", "Delete Metadata for Sentinel content."],
    ["MitreCoverageRecords/read", "Read Products Mitre Coverage"],
    ["officeConsents/read", "Gets consents from Microsoft Office"],
    ["officeConsents/delete", "Deletes consents from Microsoft Office"],
    ["onboardingStates/read", "Gets an onboarding state"],
    ["onboardingStates/write", "Updates an onboarding state"],
    ["onboardingStates/delete", "Deletes an onboarding state"],
    ["operations/read", "Gets operations"],
    ["securityMLAnalyticsSettings/read", "Gets the analytics settings"],
    ["securityMLAnalyticsSettings/write", "Update the analytics settings"],
    ["securityMLAnalyticsSettings/delete", "Delete an analytics setting"],
    ["settings/read", "Gets settings"],
    ["settings/write", "Updates settings"],
    ["settings/delete", "Deletes setting"],
    ["SourceControls/read", "Read SourceControls"],
    ["SourceControls/write", "write SourceControls"],
    ["SourceControls/delete", "Delete SourceControls"],
    ["threatintelligence/read", "Gets Threat Intelligence"],
    ["threatintelligence/write", "Updates Threat Intelligence"],
    ["threatintelligence/delete", "Deletes Threat Intelligence"],
    ["threatintelligence/query/action", "Query Threat Intelligence"],
    ["threatintelligence/metrics/action", "Collect Threat Intelligence Metrics"],
    ["threatintelligence/bulkDelete/action", "Bulk Delete Threat Intelligence"],
    ["threatintelligence/bulkTag/action", "Bulk Tags Threat Intelligence"],
    ["threatintelligence/createIndicator/action", "Create Threat Intelligence Indicator"],
    ["threatintelligence/queryIndicators/action", "Query Threat Intelligence Indicators"],
    ["threatintelligence/bulkactions/read", "Reads TI Bulk Action objects"],
    ["threatintelligence/bulkactions/write", "Creates or updates a TI Bulk Action"],
    ["threatintelligence/bulkactions/delete", "Deletes a TI Bulk Action"],
    ["threatintelligence/bulkactions/query/action", "Query Threat Intelligence STIX objects"],
    ["threatintelligence/bulkactions/count/action", "Query Threat Intelligence STIX object count"],
    ["threatintelligence/indicators/write", "Updates Threat Intelligence Indicators"],
    ["threatintelligence/indicators/delete", "Deletes Threat Intelligence Indicators"],
    ["threatintelligence/indicators/query/action", "Query Threat Intelligence Indicators"],
    ["threatintelligence/indicators/metrics/action", "Get Threat Intelligence Indicator Metrics"],
    ["threatintelligence/indicators/bulkDelete/action", "Bulk Delete Threat Intelligence Indicators"],
    ["threatintelligence/indicators/bulkTag/action", "Bulk Tags Threat Intelligence Indicators"],
    ["threatintelligence/indicators/read", "Gets Threat Intelligence Indicators"],
    ["threatintelligence/indicators/appendTags/action", "Append tags to Threat Intelligence Indicator"],
    ["threatintelligence/indicators/replaceTags/action", "Replace Tags of Threat Intelligence Indicator"],
    ["threatintelligence/ingestionrulelist/read", "Reads the set of TI Ingestion Rule objects"],
    ["threatintelligence/ingestionrulelist/write", "Creates or updates a set of TI Ingestion Rules"],
    ["threatintelligence/metrics/read", "Collect Threat Intelligence Metrics"],
    ["threatintelligence/threatactors/read", "Reads TI Threat Actor objects"],
    ["threatintelligence/threatactors/write", "Creates or updates a TI Threat Actor"],
    ["threatintelligence/threatactors/delete", "Deletes a TI Threat Actor"],
    ["triggeredAnalyticsRuleRuns/read", "Gets the triggered analytics rule runs"],
    ["Watchlists/read", "Gets Watchlists"],
    ["Watchlists/write", "Create Watchlists"],
    ["Watchlists/delete", "Deletes Watchlists"],
    ["WorkspaceManagerAssignments/read", "Gets WorkspaceManager Assignments"],
    ["WorkspaceManagerAssignments/write", "Creates WorkspaceManager Assignments"],
    ["WorkspaceManagerAssignments/delete", "Deletes WorkspaceManager Assignments"],
    ["workspaceManagerAssignments/jobs/read", "Gets WorkspaceManagerAssignments jobs"],
    ["workspaceManagerAssignments/jobs/write", "Creates WorkspaceManagerAssignments jobs"],
    ["workspaceManagerAssignments/jobs/delete", "Deletes WorkspaceManagerAssignments jobs"],
    ["WorkspaceManagerConfigurations/read", "Gets WorkspaceManager Configurations"],
    ["WorkspaceManagerConfigurations/write", "Creates WorkspaceManager Configurations"],
    ["WorkspaceManagerConfigurations/delete", "Deletes WorkspaceManager Configurations"],
    ["WorkspaceManagerGroups/read", "Gets WorkspaceManager Groups"],
    ["WorkspaceManagerGroups/write", "Creates WorkspaceManager Groups"],
    ["WorkspaceManagerGroups/delete", "Deletes WorkspaceManager Groups"],
    ["WorkspaceManagerMembers/read", "Gets WorkspaceManager Members"],
    ["WorkspaceManagerMembers/write", "Creates WorkspaceManager Members"],
    ["WorkspaceManagerMembers/delete", "Deletes WorkspaceManager Members"],
  ].map(([n, d]) => [`${SI}/${n}`, d] as [string, string]),
);

/**
 * Microsoft.OperationalInsights: the workspace operations our tools use, the ones an over-privileged identity would
 * abuse (keys, purge, export, delete, tables), and the per-table query actions of the tables our workspace schemas
 * know (permissions-monitor; each name checked in the published list).
 */
const OPERATIONAL_INSIGHTS = op(
  "permissions-monitor",
  "action",
  [
    ["read", "Gets an existing workspace"],
    ["write", "Creates a new workspace or links to an existing workspace"],
    ["delete", "Deletes a workspace"],
    ["sharedkeys/action", "Retrieves the shared keys for the workspace (agents can send data with them)"],
    ["sharedkeys/read", "Retrieves the shared keys for the workspace"],
    ["listKeys/action", "Retrieves the list keys for the workspace"],
    ["regenerateSharedKey/action", "Regenerates the specified workspace shared key"],
    ["search/action", "Executes a search query"],
    ["purge/action", "Delete specified data by query from workspace."],
    ["analytics/query/action", "Search using new engine."],
    ["dataexports/read", "Get data export."],
    ["dataexports/write", "Create or update specific data export."],
    ["dataexports/delete", "Delete specific Data Export"],
    ["datasources/read", "Get data source under a workspace."],
    ["datasources/write", "Upsert Data Source"],
    ["datasources/delete", "Delete data source under a workspace."],
    ["linkedservices/read", "Get linked services under given workspace."],
    ["linkedservices/write", "Create or update linked services under given workspace."],
    ["linkedservices/delete", "Delete linked services under given workspace."],
    ["query/read", "Run queries over the data in the workspace"],
    ["query/AuditLogs/read", "Read data from the AuditLogs table"],
    ["query/CommonSecurityLog/read", "Read data from the CommonSecurityLog table"],
    ["query/ConfidentialWatchlist/read", "Read data from the ConfidentialWatchlist table"],
    ["query/DeviceProcessEvents/read", "Read data from the DeviceProcessEvents table"],
    ["query/SecurityAlert/read", "Read data from the SecurityAlert table"],
    ["query/SecurityEvent/read", "Read data from the SecurityEvent table"],
    ["query/SecurityIncident/read", "Read data from the SecurityIncident table"],
    ["query/SigninLogs/read", "Read data from the SigninLogs table"],
    ["query/Syslog/read", "Read data from the Syslog table"],
    ["query/Tables.Custom/read", "Reading data from any custom log"],
    ["query/ThreatIntelligenceIndicator/read", "Read data from the ThreatIntelligenceIndicator table"],
    ["query/Watchlist/read", "Read data from the Watchlist table"],
    ["restoreLogs/write", "Restore data from a table."],
    ["savedSearches/read", "Gets a saved search query."],
    ["savedSearches/write", "Creates a saved search query"],
    ["savedSearches/delete", "Deletes a saved search query"],
    ["searchJobs/write", "Run a search job."],
    ["storageinsightconfigs/write", "Creates a new storage configuration."],
    ["tables/read", "Get a log analytics table."],
    ["tables/write", "Create or update a log analytics table."],
    ["tables/delete", "Delete a log analytics table."],
    ["tables/query/read", "Run queries over the data of a specific table in the workspace"],
  ].map(([n, d]) => [`${OI}/${n}`, d] as [string, string]),
);

const OPERATIONAL_INSIGHTS_DATA = op("permissions-monitor", "dataAction", [
  [
    `${OI}/tables/data/read`,
    "Allows you to provide read data access to workspaces, or more fine-grained data entities, such as specific tables or rows.",
  ],
]);

/** What the telemetry identity's built-in role holds (builtin-monitor: Monitoring Metrics Publisher). */
const INSIGHTS_DATA = op("builtin-monitor", "dataAction", [
  ["Microsoft.Insights/Metrics/Write", "Write metrics"],
  ["Microsoft.Insights/Telemetry/Write", "Write telemetry (Logs Ingestion API through a data collection rule)"],
]);

/**
 * Operations outside the two providers that built-in roles grant and the excess report must name (builtin-security).
 * Role assignment rights are what turns an over-privileged identity into an escalation path.
 */
const OTHER = op("builtin-security", "action", [
  ["Microsoft.Authorization/roleAssignments/write", "Create a role assignment at the specified scope."],
  ["Microsoft.Authorization/roleAssignments/delete", "Delete a role assignment at the specified scope."],
  ["Microsoft.Resources/subscriptions/resourceGroups/read", "Gets or lists resource groups."],
  ["Microsoft.OperationsManagement/solutions/read", "Get existing OMS solution"],
]);

/**
 * Names ARM authorizes that the published list does not carry. ARM names a request's operation after its resource
 * type path and method (GET read, PUT write, DELETE delete, POST `<last segment>/action`); the published list agrees
 * wherever it names our calls (POST entities/{id}/getTimeline is entities/gettimeline/action, POST
 * threatIntelligence/main/queryIndicators is threatintelligence/queryIndicators/action). These five calls it does
 * not name, so they are written down with the call they come from. Not verified against a live tenant: built-in
 * roles cover them with wildcards (Microsoft Sentinel Reader: Microsoft.SecurityInsights/[*]/read; Responder:
 * incidents/[*]), and a custom role must name them exactly.
 */
const DERIVED: OperationFact[] = [
  {
    name: `${SI}/alertRuleTemplates/read`,
    derivedFrom: "GET …/providers/Microsoft.SecurityInsights/alertRuleTemplates/{alertRuleTemplateId}",
    description: "Gets alert rule templates",
  },
  {
    name: `${SI}/watchlists/watchlistItems/read`,
    derivedFrom: "GET …/providers/Microsoft.SecurityInsights/watchlists/{alias}/watchlistItems",
    description: "Gets watchlist items",
  },
  {
    name: `${SI}/watchlists/watchlistItems/write`,
    derivedFrom: "PUT …/providers/Microsoft.SecurityInsights/watchlists/{alias}/watchlistItems/{itemId}",
    description: "Creates or updates a watchlist item",
  },
  {
    name: `${SI}/watchlists/watchlistItems/delete`,
    derivedFrom: "DELETE …/providers/Microsoft.SecurityInsights/watchlists/{alias}/watchlistItems/{itemId}",
    description: "Deletes a watchlist item",
  },
  {
    name: `${SI}/incidents/alerts/action`,
    derivedFrom: "POST …/providers/Microsoft.SecurityInsights/incidents/{incidentId}/alerts",
    description: "Lists an incident's alerts (a POST in the API)",
  },
  {
    name: `${SI}/incidents/entities/action`,
    derivedFrom: "POST …/providers/Microsoft.SecurityInsights/incidents/{incidentId}/entities",
    description: "Lists an incident's entities (a POST in the API)",
  },
  {
    name: `${SI}/entities/queries/read`,
    derivedFrom: "GET …/providers/Microsoft.SecurityInsights/entities/{entityId}/queries?kind=Insight",
    description: "Gets an entity's insight query definitions",
  },
].map((d) => ({ ...d, kind: "action" as const, source: "arm-sdk" as const }));

export const PUBLISHED: readonly OperationFact[] = [
  ...SECURITY_INSIGHTS,
  ...OPERATIONAL_INSIGHTS,
  ...OPERATIONAL_INSIGHTS_DATA,
  ...INSIGHTS_DATA,
  ...OTHER,
];

export const DERIVED_OPERATIONS: readonly OperationFact[] = DERIVED;

/** Every operation name we know, for lookups and the excess report. */
export const KNOWN_OPERATIONS: readonly OperationFact[] = [...PUBLISHED, ...DERIVED];

const byName = new Map(KNOWN_OPERATIONS.map((f) => [`${f.kind}:${f.name.toLowerCase()}`, f]));

/** Log Analytics table names (built-in and custom `_CL`). */
export const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * The query action for one table. manage-access: "Access a specific log table:
 * Microsoft.OperationalInsights/workspaces/query/<table_name>/read"; custom tables (`_CL`) are covered by
 * `query/Tables.Custom/read` ("Reading data from any custom log", permissions-monitor) in that table-level method.
 */
export function tableQueryAction(table: string): string {
  if (!TABLE_NAME.test(table)) throw new Error(`"${table}" is not a Log Analytics table name`);
  return table.endsWith("_CL") ? `${OI}/query/Tables.Custom/read` : `${OI}/query/${table}/read`;
}

/** manage-access: "Access all log types by using queries" (a pattern, not one operation). */
export const ALL_TABLES = `${OI}/query/*/read`;

const TABLE_ACTION = /^microsoft\.operationalinsights\/workspaces\/query\/([a-z_][a-z0-9_]{0,127})\/read$/i;

/**
 * Where an operation name comes from: a published or derived fact, or the documented per-table template (a table the
 * published list may not name, such as a newer one, is still a well-formed table action). Undefined: not an operation.
 */
export function operationFact(name: string, kind: OperationKind = "action"): OperationFact | undefined {
  const known = byName.get(`${kind}:${name.toLowerCase()}`);
  if (known) return known;
  if (kind === "action" && name.toLowerCase() === ALL_TABLES.toLowerCase())
    return { name, kind, source: "manage-access", description: "Access all log types by using queries" };
  if (kind === "action" && TABLE_ACTION.test(name))
    return {
      name,
      kind,
      source: "manage-access",
      description: `Read data from the ${TABLE_ACTION.exec(name)![1]} table (table-level read access)`,
    };
  return undefined;
}
