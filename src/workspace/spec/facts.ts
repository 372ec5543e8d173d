import { ATTACK_TACTICS } from "../../sentinel/attack-tactics.js";

// Facts of the Microsoft.SecurityInsights 2022-09-01-preview OpenAPI specification that the SDK's generated mappers
// lose, written down in our own words. The mappers drop `required` inside flattened `properties` bags and model
// extensible enums (x-ms-enum modelAsString) as plain strings; Azure's service still enforces both.
//
// Source: github.com/Azure/azure-rest-api-specs, specification/securityinsights/resource-manager/
// Microsoft.SecurityInsights/preview/2022-09-01-preview/ — file named on each entry. Paths are the wire paths
// (serialized names), e.g. "properties.query".

const SPEC = "specification/securityinsights/resource-manager/Microsoft.SecurityInsights/preview/2022-09-01-preview";

export interface ModelFacts {
  /** Where the facts were read. */
  source: string;
  /** Wire paths the spec marks required (inside the flattened properties bag). */
  required?: string[];
  /** Wire paths whose values the spec enumerates (an array's elements are each checked). */
  enums?: Record<string, readonly string[]>;
  /**
   * Wire paths Azure sends in every response although the spec does not mark them required (seen in the spec's
   * response examples); checked on responses only.
   */
  alwaysSent?: string[];
}

const SEVERITY = ["High", "Medium", "Low", "Informational"] as const;
/** KillChainIntent (common/EntityTypes.json): a security alert's intent; not the tactic list. */
export const KILL_CHAIN_INTENTS = [
  "Unknown",
  "Probing",
  "Exploitation",
  "Persistence",
  "PrivilegeEscalation",
  "DefenseEvasion",
  "CredentialAccess",
  "Discovery",
  "LateralMovement",
  "Execution",
  "Collection",
  "Exfiltration",
  "CommandAndControl",
  "Impact",
] as const;

const scheduledCommonEnums = {
  "properties.severity": SEVERITY,
  "properties.tactics": ATTACK_TACTICS,
  "properties.eventGroupingSettings.aggregationKind": ["SingleAlert", "AlertPerResult"],
} as const;

/** Facts keyed by the SDK mapper's class name. */
export const FACTS: Record<string, ModelFacts> = {
  Incident: {
    source: `${SPEC}/Incidents.json (IncidentProperties; examples/incidents/GetIncidents.json)`,
    required: ["properties.title", "properties.severity", "properties.status"],
    enums: {
      "properties.severity": SEVERITY,
      "properties.status": ["New", "Active", "Closed"],
      "properties.classification": ["Undetermined", "TruePositive", "BenignPositive", "FalsePositive"],
      "properties.classificationReason": [
        "SuspiciousActivity",
        "SuspiciousButExpected",
        "IncorrectAlertLogic",
        "InaccurateData",
      ],
      "properties.additionalData.tactics": ATTACK_TACTICS,
    },
    alwaysSent: [
      "properties.providerName",
      "properties.providerIncidentId",
      "properties.owner.ownerType",
      "properties.additionalData.alertsCount",
      "properties.additionalData.bookmarksCount",
      "properties.additionalData.commentsCount",
      "properties.additionalData.alertProductNames",
      "properties.additionalData.tactics",
    ],
  },
  IncidentOwnerInfo: {
    source: `${SPEC}/Incidents.json (IncidentOwnerInfo)`,
    enums: { ownerType: ["Unknown", "User", "Group"] },
  },
  IncidentLabel: {
    source: `${SPEC}/Incidents.json (IncidentLabel)`,
    required: ["labelName"],
    enums: { labelType: ["User", "AutoAssigned"] },
  },
  IncidentComment: {
    source: `${SPEC}/Incidents.json (IncidentCommentProperties)`,
    required: ["properties.message"],
  },
  SecurityAlert: {
    source: `${SPEC}/common/EntityTypes.json (SecurityAlertProperties)`,
    enums: {
      "properties.severity": SEVERITY,
      "properties.status": ["Unknown", "New", "Resolved", "Dismissed", "InProgress"],
      "properties.confidenceLevel": ["Unknown", "Low", "High"],
      "properties.intent": KILL_CHAIN_INTENTS,
      "properties.tactics": ATTACK_TACTICS,
    },
  },
  ScheduledAlertRule: {
    source: `${SPEC}/AlertRules.json (ScheduledAlertRuleProperties, ScheduledAlertRuleCommonProperties)`,
    required: [
      "properties.displayName",
      "properties.enabled",
      "properties.severity",
      "properties.query",
      "properties.queryFrequency",
      "properties.queryPeriod",
      "properties.triggerOperator",
      "properties.triggerThreshold",
      "properties.suppressionEnabled",
      "properties.suppressionDuration",
    ],
    enums: scheduledCommonEnums,
  },
  NrtAlertRule: {
    source: `${SPEC}/AlertRules.json (NrtAlertRuleProperties)`,
    required: [
      "properties.displayName",
      "properties.enabled",
      "properties.severity",
      "properties.query",
      "properties.suppressionEnabled",
      "properties.suppressionDuration",
    ],
    enums: scheduledCommonEnums,
  },
  FusionAlertRule: {
    source: `${SPEC}/AlertRules.json (FusionAlertRuleProperties)`,
    required: ["properties.alertRuleTemplateName", "properties.enabled"],
  },
  ThreatIntelligenceAlertRule: {
    source: `${SPEC}/AlertRules.json (ThreatIntelligenceAlertRuleProperties)`,
    required: ["properties.alertRuleTemplateName", "properties.enabled"],
  },
  MicrosoftSecurityIncidentCreationAlertRule: {
    source: `${SPEC}/AlertRules.json (MicrosoftSecurityIncidentCreationAlertRuleProperties)`,
    required: ["properties.displayName", "properties.enabled", "properties.productFilter"],
  },
  IncidentConfiguration: {
    source: `${SPEC}/AlertRules.json (IncidentConfiguration)`,
    required: ["createIncident"],
  },
  GroupingConfiguration: {
    source: `${SPEC}/AlertRules.json (GroupingConfiguration)`,
    required: ["enabled", "reopenClosedIncident", "lookbackDuration", "matchingMethod"],
    enums: { matchingMethod: ["AllEntities", "AnyAlert", "Selected"] },
  },
  ScheduledAlertRuleTemplate: {
    source: `${SPEC}/AlertRules.json (ScheduledAlertRuleTemplate)`,
    required: [
      "properties.displayName",
      "properties.description",
      "properties.status",
      "properties.alertRulesCreatedByTemplateCount",
      "properties.severity",
      "properties.query",
      "properties.queryFrequency",
      "properties.queryPeriod",
      "properties.triggerOperator",
      "properties.triggerThreshold",
      "properties.version",
    ],
    enums: {
      ...scheduledCommonEnums,
      "properties.status": ["Installed", "Available", "NotAvailable"],
    },
  },
  NrtAlertRuleTemplate: {
    source: `${SPEC}/AlertRules.json (NrtAlertRuleTemplate)`,
    required: [
      "properties.displayName",
      "properties.description",
      "properties.status",
      "properties.alertRulesCreatedByTemplateCount",
      "properties.severity",
      "properties.query",
      "properties.version",
    ],
    enums: { ...scheduledCommonEnums, "properties.status": ["Installed", "Available", "NotAvailable"] },
  },
  FusionAlertRuleTemplate: {
    source: `${SPEC}/AlertRules.json (FusionAlertRuleTemplate)`,
    required: [
      "properties.displayName",
      "properties.description",
      "properties.status",
      "properties.severity",
      "properties.alertRulesCreatedByTemplateCount",
    ],
  },
  AutomationRule: {
    source: `${SPEC}/AutomationRules.json (AutomationRuleProperties)`,
    required: ["properties.triggeringLogic"],
  },
  AutomationRuleTriggeringLogic: {
    source: `${SPEC}/AutomationRules.json (AutomationRuleTriggeringLogic)`,
    required: ["isEnabled", "triggersOn", "triggersWhen"],
    enums: { triggersOn: ["Incidents", "Alerts"], triggersWhen: ["Created", "Updated"] },
  },
  IncidentPropertiesAction: {
    source: `${SPEC}/AutomationRules.json (IncidentPropertiesAction)`,
    enums: {
      severity: SEVERITY,
      status: ["New", "Active", "Closed"],
      classification: ["Undetermined", "TruePositive", "BenignPositive", "FalsePositive"],
    },
  },
  Watchlist: {
    source: `${SPEC}/Watchlists.json (WatchlistProperties)`,
    required: ["properties.displayName", "properties.provider", "properties.itemsSearchKey"],
  },
  WatchlistItem: {
    source: `${SPEC}/Watchlists.json (WatchlistItemProperties)`,
    required: ["properties.itemsKeyValue"],
  },
  Bookmark: {
    source: `${SPEC}/Bookmarks.json (BookmarkProperties)`,
    required: ["properties.displayName", "properties.query"],
  },
};
