import { stableGuid } from "./seed-determinism.js";
import type { WorkspaceStore } from "./store.js";

// Scheduled alert rule templates (Microsoft content: the same ids in every workspace, independent of the seed).

const DAY = 86_400_000;

interface TemplateSpec {
  label: string;
  displayName: string;
  description: string;
  severity: "High" | "Medium" | "Low" | "Informational";
  query: string;
  queryFrequency: string;
  queryPeriod: string;
  triggerOperator: "GreaterThan" | "LessThan" | "Equal" | "NotEqual";
  triggerThreshold: number;
  tactics: string[];
  techniques: string[];
  connectors: { connectorId: string; dataTypes: string[] }[];
  version: string;
  entityMappings: { entityType: string; fieldMappings: { identifier: string; columnName: string }[] }[];
}

// Queries use only tables and operators the workspace serves, so a template's fields can be passed unchanged to
// analyticsRules.create (and the rule runs).
const TEMPLATES: TemplateSpec[] = [
  {
    label: "tpl-spray",
    displayName: "Password spray attack against Azure AD accounts",
    description:
      "Identifies an IP address that failed to sign in to many distinct accounts with invalid passwords (Azure AD error 50126) within the query period.",
    severity: "Medium",
    query:
      "SigninLogs\n| where ResultType == '50126'\n| summarize FailedAccounts = dcount(UserPrincipalName), Attempts = count(), FirstSeen = min(TimeGenerated), LastSeen = max(TimeGenerated) by IPAddress\n| where FailedAccounts >= 5",
    queryFrequency: "PT1H",
    queryPeriod: "P1D",
    triggerOperator: "GreaterThan",
    triggerThreshold: 0,
    tactics: ["CredentialAccess"],
    techniques: ["T1110"],
    connectors: [{ connectorId: "AzureActiveDirectory", dataTypes: ["SigninLogs"] }],
    version: "1.2.0",
    entityMappings: [{ entityType: "IP", fieldMappings: [{ identifier: "Address", columnName: "IPAddress" }] }],
  },
  {
    label: "tpl-spray-success",
    displayName: "Successful sign-in from a password spray source",
    description:
      "Finds accounts that signed in successfully from an IP address that failed against several accounts in the same period.",
    severity: "High",
    query:
      "let sprayIps = SigninLogs\n| where ResultType == '50126'\n| summarize Targets = dcount(UserPrincipalName) by IPAddress\n| where Targets >= 5\n| project IPAddress;\nSigninLogs\n| where ResultType == '0'\n| join kind=inner (sprayIps) on IPAddress\n| project TimeGenerated, UserPrincipalName, IPAddress, AppDisplayName",
    queryFrequency: "PT1H",
    queryPeriod: "P1D",
    triggerOperator: "GreaterThan",
    triggerThreshold: 0,
    tactics: ["InitialAccess", "CredentialAccess"],
    techniques: ["T1078", "T1110"],
    connectors: [{ connectorId: "AzureActiveDirectory", dataTypes: ["SigninLogs"] }],
    version: "1.0.3",
    entityMappings: [
      { entityType: "Account", fieldMappings: [{ identifier: "FullName", columnName: "UserPrincipalName" }] },
      { entityType: "IP", fieldMappings: [{ identifier: "Address", columnName: "IPAddress" }] },
    ],
  },
  {
    label: "tpl-sp-creds",
    displayName: "Credentials added to a service principal",
    description:
      "Detects credentials (secrets or certificates) added to an application or service principal, a common persistence step after an identity compromise.",
    severity: "Medium",
    query:
      "AuditLogs\n| where OperationName has 'service principal credentials'\n| extend Actor = tostring(InitiatedBy.user.userPrincipalName)\n| project TimeGenerated, OperationName, Result, Actor",
    queryFrequency: "PT1H",
    queryPeriod: "PT1H",
    triggerOperator: "GreaterThan",
    triggerThreshold: 0,
    tactics: ["Persistence", "PrivilegeEscalation"],
    techniques: ["T1098"],
    connectors: [{ connectorId: "AzureActiveDirectory", dataTypes: ["AuditLogs"] }],
    version: "2.0.1",
    entityMappings: [{ entityType: "Account", fieldMappings: [{ identifier: "FullName", columnName: "Actor" }] }],
  },
  {
    label: "tpl-encoded-ps",
    displayName: "Encoded PowerShell command launched by an Office application",
    description:
      "Detects powershell.exe started with an encoded command line by Outlook, Word or Excel, typical of macro and attachment droppers.",
    severity: "High",
    query:
      "DeviceProcessEvents\n| where FileName =~ 'powershell.exe' and ProcessCommandLine has '-enc'\n| where InitiatingProcessFileName in~ ('outlook.exe', 'winword.exe', 'excel.exe')\n| project TimeGenerated, DeviceName, AccountName, ProcessCommandLine, InitiatingProcessFileName",
    queryFrequency: "PT15M",
    queryPeriod: "PT1H",
    triggerOperator: "GreaterThan",
    triggerThreshold: 0,
    tactics: ["Execution", "DefenseEvasion"],
    techniques: ["T1059", "T1027"],
    connectors: [{ connectorId: "MicrosoftDefenderAdvancedThreatProtection", dataTypes: ["DeviceProcessEvents"] }],
    version: "1.1.0",
    entityMappings: [
      { entityType: "Host", fieldMappings: [{ identifier: "HostName", columnName: "DeviceName" }] },
      { entityType: "Account", fieldMappings: [{ identifier: "Name", columnName: "AccountName" }] },
    ],
  },
  {
    label: "tpl-multi-stage",
    displayName: "Multiple high-severity alerts on one account",
    description:
      "Correlates security alerts: an account that is the compromised entity of two or more distinct alerts, at least one of them High, in the query period.",
    severity: "High",
    query:
      "SecurityAlert\n| summarize Alerts = dcount(AlertName), High = countif(AlertSeverity == 'High'), Names = make_set(AlertName) by CompromisedEntity\n| where Alerts >= 2 and High >= 1",
    queryFrequency: "PT1H",
    queryPeriod: "P1D",
    triggerOperator: "GreaterThan",
    triggerThreshold: 0,
    tactics: ["InitialAccess", "Execution", "Exfiltration"],
    techniques: ["T1078"],
    connectors: [
      { connectorId: "AzureActiveDirectory", dataTypes: ["SecurityAlert (IPC)"] },
      { connectorId: "MicrosoftDefenderAdvancedThreatProtection", dataTypes: ["SecurityAlert (MDATP)"] },
    ],
    version: "1.0.0",
    entityMappings: [
      { entityType: "Account", fieldMappings: [{ identifier: "FullName", columnName: "CompromisedEntity" }] },
    ],
  },
  {
    label: "tpl-mfa-fail",
    displayName: "Sign-in failures from many locations for one account",
    description:
      "An account with failed sign-ins from three or more countries in a day, a sign of credential stuffing.",
    severity: "Low",
    query:
      "SigninLogs\n| where ResultType != '0'\n| summarize Countries = dcount(Location), Failures = count() by UserPrincipalName\n| where Countries >= 3",
    queryFrequency: "P1D",
    queryPeriod: "P1D",
    triggerOperator: "GreaterThan",
    triggerThreshold: 0,
    tactics: ["CredentialAccess"],
    techniques: ["T1110"],
    connectors: [{ connectorId: "AzureActiveDirectory", dataTypes: ["SigninLogs"] }],
    version: "1.0.2",
    entityMappings: [
      { entityType: "Account", fieldMappings: [{ identifier: "FullName", columnName: "UserPrincipalName" }] },
    ],
  },
];

export function seedTemplates(store: WorkspaceStore, now: number): number {
  for (const t of TEMPLATES) {
    // Templates are Microsoft content: the same ids in every workspace, independent of the seed.
    const name = stableGuid(`alert-rule-template:${t.label}`);
    store.put(
      "alertRuleTemplates",
      name,
      {
        kind: "Scheduled",
        properties: {
          displayName: t.displayName,
          description: t.description,
          severity: t.severity,
          query: t.query,
          queryFrequency: t.queryFrequency,
          queryPeriod: t.queryPeriod,
          triggerOperator: t.triggerOperator,
          triggerThreshold: t.triggerThreshold,
          tactics: t.tactics,
          techniques: t.techniques,
          requiredDataConnectors: t.connectors,
          status: "Available",
          version: t.version,
          alertRulesCreatedByTemplateCount: 0,
          createdDateUTC: new Date(now - 400 * DAY).toISOString(),
          lastUpdatedDateUTC: new Date(now - 30 * DAY).toISOString(),
          entityMappings: t.entityMappings,
          eventGroupingSettings: { aggregationKind: "SingleAlert" },
        },
      },
      `"${stableGuid(`etag-template:${t.label}`)}"`,
    );
  }
  return TEMPLATES.length;
}
