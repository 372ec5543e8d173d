import type { WorkspaceStore } from "./store.js";

// Hunting content of the demo workspace: Log Analytics saved searches (Sentinel's hunting queries are the ones in the
// "Hunting Queries" category, tagged with MITRE tactics and techniques) and two hunting bookmarks on the planted
// attack. Ids are fixed, like content-hub hunting queries; times are relative to `now`, so seeding stays deterministic.

export const HUNTING_CATEGORY = "Hunting Queries";

interface SavedSearchSeed {
  id: string;
  category: string;
  displayName: string;
  query: string;
  description: string;
  tactics?: string[];
  techniques?: string[];
}

/** Hunting queries over the workspace's tables; one of them reads an external feed, which policies forbid. */
export const SAVED_SEARCHES: SavedSearchSeed[] = [
  {
    id: "5d1b2c6e-9a3f-4e71-8b0d-0c1f7e2a9b01",
    category: HUNTING_CATEGORY,
    displayName: "Password spray: one IP failing against many accounts",
    description: "IP addresses with failed password sign-ins (50126) against five or more accounts.",
    query: `SigninLogs
| where ResultType == "50126"
| summarize Attempts = count(), Accounts = dcount(UserPrincipalName), FirstSeen = min(TimeGenerated), LastSeen = max(TimeGenerated) by IPAddress
| where Accounts >= 5
| sort by Accounts desc`,
    tactics: ["CredentialAccess"],
    techniques: ["T1110", "T1110.003"],
  },
  {
    id: "5d1b2c6e-9a3f-4e71-8b0d-0c1f7e2a9b02",
    category: HUNTING_CATEGORY,
    displayName: "Successful sign-in from a password spray source",
    description: "Accounts that signed in successfully from an IP that failed against several accounts.",
    query: `let sprayIps = SigninLogs
| where ResultType == "50126"
| summarize Accounts = dcount(UserPrincipalName) by IPAddress
| where Accounts >= 5;
SigninLogs
| where ResultType == "0"
| join kind=inner (sprayIps) on IPAddress
| project TimeGenerated, UserPrincipalName, IPAddress, Location, AppDisplayName, UserAgent, Accounts`,
    tactics: ["InitialAccess", "CredentialAccess"],
    techniques: ["T1078", "T1110.003"],
  },
  {
    id: "5d1b2c6e-9a3f-4e71-8b0d-0c1f7e2a9b03",
    category: HUNTING_CATEGORY,
    displayName: "Encoded PowerShell command lines",
    description: "PowerShell started with -enc / -EncodedCommand, a common way to hide a download cradle.",
    query: `DeviceProcessEvents
| where FileName == "powershell.exe"
| where ProcessCommandLine contains "-enc"
| project TimeGenerated, DeviceName, AccountName, ProcessCommandLine, InitiatingProcessFileName`,
    tactics: ["Execution", "DefenseEvasion"],
    techniques: ["T1059.001", "T1027"],
  },
  {
    id: "5d1b2c6e-9a3f-4e71-8b0d-0c1f7e2a9b04",
    category: HUNTING_CATEGORY,
    displayName: "Office application spawning a script host",
    description: "Outlook, Word or Excel starting PowerShell or cmd: typical of a malicious attachment.",
    query: `DeviceProcessEvents
| where InitiatingProcessFileName in ("outlook.exe", "winword.exe", "excel.exe")
| where FileName in ("powershell.exe", "cmd.exe", "wscript.exe")
| summarize Count = count(), Devices = make_set(DeviceName) by InitiatingProcessFileName, FileName`,
    tactics: ["InitialAccess", "Execution"],
    techniques: ["T1566.001", "T1204.002"],
  },
  {
    id: "5d1b2c6e-9a3f-4e71-8b0d-0c1f7e2a9b05",
    category: HUNTING_CATEGORY,
    displayName: "Credentials added to a service principal",
    description: "New secrets or certificates on service principals: a persistence path after account takeover.",
    query: `AuditLogs
| where OperationName == "Add service principal credentials"
| where Result == "success"
| project TimeGenerated, OperationName, InitiatedBy, TargetResources`,
    tactics: ["Persistence"],
    techniques: ["T1098.001"],
  },
  {
    id: "5d1b2c6e-9a3f-4e71-8b0d-0c1f7e2a9b06",
    category: HUNTING_CATEGORY,
    displayName: "Application consent grants",
    description: "Users consenting to applications; illicit consent grants steal application access tokens.",
    query: `AuditLogs
| where OperationName == "Consent to application"
| summarize Grants = count() by bin(TimeGenerated, 1d), Result`,
    tactics: ["CredentialAccess"],
    techniques: ["T1528"],
  },
  {
    id: "5d1b2c6e-9a3f-4e71-8b0d-0c1f7e2a9b07",
    category: HUNTING_CATEGORY,
    displayName: "High-severity alerts by tactic",
    description: "Where high-severity alerts cluster across the kill chain.",
    query: `SecurityAlert
| where AlertSeverity == "High"
| summarize Alerts = count(), Entities = make_set(CompromisedEntity) by Tactics`,
    tactics: ["Execution", "InitialAccess"],
    techniques: ["T1059"],
  },
  {
    // Blocked by policy: pulls an external indicator feed (externaldata), which no example policy allows.
    id: "5d1b2c6e-9a3f-4e71-8b0d-0c1f7e2a9b08",
    category: HUNTING_CATEGORY,
    displayName: "Sign-ins from IPs on an external threat feed",
    description: "Matches sign-in IPs against a community IOC list fetched at query time.",
    query: `let feed = externaldata (IPAddress: string) [@"https://feeds.example.org/ioc/ips.csv"] with (format="csv");
SigninLogs
| join kind=inner (feed) on IPAddress
| project TimeGenerated, UserPrincipalName, IPAddress, Location`,
    tactics: ["InitialAccess"],
    techniques: ["T1078"],
  },
  {
    // Not a hunting query: a workspace saved search in another category, never listed or run as one.
    id: "b4f0c2a1-7e55-4c1e-9d2b-3a6f8e0d1c09",
    category: "Log Management",
    displayName: "Sign-in volume by application",
    description: "Daily sign-in counts per application.",
    query: `SigninLogs
| summarize SignIns = count() by AppDisplayName, bin(TimeGenerated, 1d)`,
  },
];

export const BOOKMARK_IDS = ["8c3e6f10-2b4d-4a8e-9f61-7d5c0b3a2e11", "8c3e6f10-2b4d-4a8e-9f61-7d5c0b3a2e12"] as const;

/** Writes the saved searches and bookmarks. `attackIncidentId` is the planted multi-stage incident. */
export function seedHunting(store: WorkspaceStore, opts: { now: number; attackIncidentId: string }): void {
  const iso = (ms: number) => new Date(ms).toISOString();
  const seededAt = iso(opts.now - 86_400_000);
  for (const s of SAVED_SEARCHES) {
    const tags = [
      { name: "description", value: s.description },
      ...(s.tactics ? [{ name: "tactics", value: s.tactics.join(",") }] : []),
      ...(s.techniques ? [{ name: "techniques", value: s.techniques.join(",") }] : []),
    ];
    store.put(
      "savedSearches",
      s.id,
      { properties: { category: s.category, displayName: s.displayName, query: s.query, version: 2, tags } },
      `W/"datetime'${seededAt}'"`,
    );
  }
  const spray = opts.now - 3 * 3_600_000;
  const bookmarks = [
    {
      displayName: "Spray source 203.0.113.45 signs in as adele.vance",
      query: `SigninLogs
| where IPAddress == "203.0.113.45"
| summarize Failures = countif(ResultType == "50126"), Successes = countif(ResultType == "0") by UserPrincipalName`,
      queryResult: '[{"UserPrincipalName":"adele.vance@contoso.com","Failures":4,"Successes":1}]',
      notes: "Spray from one IP, then a successful sign-in on the same IP. Linked to the multi-stage incident.",
      labels: ["password-spray", "identity"],
      eventTime: iso(spray + 40 * 15_000),
      queryStartTime: iso(spray - 3_600_000),
      queryEndTime: iso(spray + 3_600_000),
      tactics: ["CredentialAccess", "InitialAccess"],
      techniques: ["T1110", "T1078"],
      incidentInfo: {
        incidentId: opts.attackIncidentId,
        severity: "High",
        title: "Password spray followed by successful sign-in and data staging",
        relationName: "bookmark-spray",
      },
    },
    {
      displayName: "Encoded PowerShell on WS-ADELE01 after the spray",
      query: `DeviceProcessEvents
| where DeviceName == "WS-ADELE01" and ProcessCommandLine contains "-enc"`,
      notes: "Download cradle started by outlook.exe minutes after the compromised sign-in.",
      labels: ["execution"],
      eventTime: iso(spray + 50 * 15_000),
      queryStartTime: iso(spray),
      queryEndTime: iso(spray + 2 * 3_600_000),
      tactics: ["Execution"],
      techniques: ["T1059.001"],
    },
  ];
  for (const [i, b] of bookmarks.entries()) {
    store.put(
      "bookmarks",
      BOOKMARK_IDS[i]!,
      { properties: { ...b, created: seededAt, updated: seededAt } },
      `"${BOOKMARK_IDS[i]}-v1"`,
    );
  }
}
