import { seedGuid } from "./seed-determinism.js";
import { iso, type SeedRun } from "./seed-run.js";

// Analytics rules (the ones behind the seeded incidents) and automation rules of the seeded workspace.

export function seedAnalyticsRules(run: SeedRun): void {
  const { store, seed, now } = run;
  const rules: [string, string, string, string][] = [
    [
      "rule-spray",
      "Password spray from a single IP",
      "Medium",
      "SigninLogs | where ResultType == '50126' | summarize Failures = dcount(UserPrincipalName) by IPAddress | where Failures >= 10",
    ],
    ["rule-phish", "User-reported phishing", "Medium", "SecurityAlert | where AlertName has 'phishing'"],
    ["rule-forward", "Suspicious inbox forwarding rule", "Medium", "AuditLogs | where OperationName has 'inbox rule'"],
    [
      "rule-powershell",
      "Encoded PowerShell command line",
      "High",
      "DeviceProcessEvents | where FileName =~ 'powershell.exe' and ProcessCommandLine has '-enc'",
    ],
  ];
  for (const [label, displayName, severity, query] of rules) {
    store.put(
      "alertRules",
      seedGuid(seed, label),
      {
        kind: "Scheduled",
        properties: {
          displayName,
          description: `${displayName}.`,
          enabled: true,
          severity,
          query,
          queryFrequency: "PT1H",
          queryPeriod: "PT1H",
          triggerOperator: "GreaterThan",
          triggerThreshold: 0,
          suppressionDuration: "PT5H",
          suppressionEnabled: false,
          tactics: ["CredentialAccess"],
          lastModifiedUtc: iso(now - 86_400_000),
        },
      },
      `"${seedGuid(seed, `etag-${label}`)}"`,
    );
  }
}

export function seedAutomationRules(run: SeedRun): void {
  const { store, seed, now } = run;
  for (const [i, displayName] of ["Assign high-severity incidents to Tier 2", "Tag phishing incidents"].entries()) {
    store.put(
      "automationRules",
      seedGuid(seed, `automation-${i}`),
      {
        properties: {
          displayName,
          order: i + 1,
          triggeringLogic: { isEnabled: true, triggersOn: "Incidents", triggersWhen: "Created", conditions: [] },
          actions: [
            {
              order: 1,
              actionType: "ModifyProperties",
              actionConfiguration:
                i === 0
                  ? { owner: { userPrincipalName: "soc-tier2@contoso.com" } }
                  : { labels: [{ labelName: "phishing" }] },
            },
          ],
          lastModifiedTimeUtc: iso(now - 86_400_000),
        },
      },
      `"${seedGuid(seed, `etag-automation-${i}`)}"`,
    );
  }
}
