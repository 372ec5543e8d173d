import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeKql } from "../../src/kql/engine.js";
import type { KqlType, KqlValue } from "../../src/kql/types.js";
import { SENTINEL_TABLE_SCHEMAS } from "../../src/sentinel/table-schemas.js";
import { dataSource } from "../../src/workspace/logs.js";
import { LOG_TABLES } from "../../src/workspace/schemas.js";
import { seedStore } from "../../src/workspace/seed.js";
import { ATTACKER_IP, HOST_IPS } from "../../src/workspace/seed-tenant.js";
import { WorkspaceStore } from "../../src/workspace/store.js";

// The seeded tables against Azure's: the columns real Sentinel content queries (names and types from the Azure
// Monitor table reference and the Azure-Sentinel repository's KQL validation schemas), row values of the declared
// types, and the dynamic columns in the shapes Azure writes them.

/** Columns real analytics and hunting queries use, per table, with their Azure types. */
const AZURE_COLUMNS: Record<string, Record<string, KqlType>> = {
  SigninLogs: {
    TimeGenerated: "datetime",
    UserPrincipalName: "string",
    UserId: "string",
    IPAddress: "string",
    Location: "string",
    LocationDetails: "dynamic",
    DeviceDetail: "dynamic",
    Status: "dynamic",
    ResultType: "string",
    ResultDescription: "string",
    ConditionalAccessStatus: "string",
    ConditionalAccessPolicies: "dynamic",
    AppDisplayName: "string",
    AppId: "string",
    ClientAppUsed: "string",
    UserAgent: "string",
    AuthenticationDetails: "string",
    AuthenticationRequirement: "string",
    RiskLevelDuringSignIn: "string",
    RiskLevelAggregated: "string",
    RiskState: "string",
    IsInteractive: "bool",
    IsRisky: "bool",
    ResourceDisplayName: "string",
    AutonomousSystemNumber: "string",
    CorrelationId: "string",
    Type: "string",
  },
  AuditLogs: {
    TimeGenerated: "datetime",
    OperationName: "string",
    Category: "string",
    Result: "string",
    ResultReason: "string",
    InitiatedBy: "dynamic",
    TargetResources: "dynamic",
    AdditionalDetails: "dynamic",
    LoggedByService: "string",
    AADOperationType: "string",
    ActivityDisplayName: "string",
    CorrelationId: "string",
  },
  SecurityAlert: {
    TimeGenerated: "datetime",
    AlertName: "string",
    AlertSeverity: "string",
    AlertType: "string",
    CompromisedEntity: "string",
    ConfidenceScore: "real",
    Entities: "string",
    ExtendedProperties: "string",
    IsIncident: "bool",
    ProductName: "string",
    ProviderName: "string",
    SystemAlertId: "string",
    Tactics: "string",
    Techniques: "string",
    VendorOriginalId: "string",
  },
  SecurityIncident: {
    TimeGenerated: "datetime",
    IncidentName: "string",
    IncidentNumber: "int",
    Title: "string",
    Severity: "string",
    Status: "string",
    Classification: "string",
    Owner: "dynamic",
    AlertIds: "dynamic",
    RelatedAnalyticRuleIds: "dynamic",
    AdditionalData: "dynamic",
    ProviderIncidentId: "string",
    ClosedTime: "datetime",
    Tasks: "dynamic",
  },
  DeviceProcessEvents: {
    TimeGenerated: "datetime",
    Timestamp: "datetime",
    DeviceId: "string",
    DeviceName: "string",
    ActionType: "string",
    AccountName: "string",
    AccountDomain: "string",
    AccountSid: "string",
    AccountUpn: "string",
    FileName: "string",
    FolderPath: "string",
    ProcessCommandLine: "string",
    ProcessId: "long",
    SHA1: "string",
    SHA256: "string",
    MD5: "string",
    InitiatingProcessFileName: "string",
    InitiatingProcessFolderPath: "string",
    InitiatingProcessCommandLine: "string",
    InitiatingProcessParentFileName: "string",
    InitiatingProcessAccountName: "string",
    InitiatingProcessId: "long",
    InitiatingProcessSHA256: "string",
    ReportId: "long",
  },
  OfficeActivity: {
    TimeGenerated: "datetime",
    Operation: "string",
    RecordType: "string",
    OfficeWorkload: "string",
    UserId: "string",
    UserType: "string",
    ClientIP: "string",
    ResultStatus: "string",
    Parameters: "string",
    OfficeObjectId: "string",
    SourceFileName: "string",
    Site_Url: "string",
    MailboxOwnerUPN: "string",
    ClientInfoString: "string",
    OperationProperties: "dynamic",
    ExtraProperties: "dynamic",
    IsManagedDevice: "bool",
    LoginStatus: "int",
  },
  CommonSecurityLog: {
    TimeGenerated: "datetime",
    DeviceVendor: "string",
    DeviceProduct: "string",
    DeviceAction: "string",
    Activity: "string",
    LogSeverity: "string",
    SourceIP: "string",
    SourcePort: "int",
    DestinationIP: "string",
    DestinationPort: "int",
    DestinationHostName: "string",
    Protocol: "string",
    ApplicationProtocol: "string",
    SentBytes: "long",
    ReceivedBytes: "long",
    RequestURL: "string",
    SourceUserName: "string",
    MaliciousIP: "string",
    ThreatSeverity: "int",
    DeviceCustomString1: "string",
    DeviceCustomString1Label: "string",
    SimplifiedDeviceAction: "string",
    Computer: "string",
  },
};

/** At least this many of Azure's columns per table (the hidden _-prefixed system columns left out). */
const MIN_COLUMNS: Record<string, number> = {
  SigninLogs: 75,
  AuditLogs: 30,
  SecurityAlert: 35,
  SecurityIncident: 31,
  DeviceProcessEvents: 60,
  OfficeActivity: 125,
  CommonSecurityLog: 155,
};

function typeOk(v: KqlValue, t: KqlType): boolean {
  if (v === null) return true;
  switch (t) {
    case "string":
    case "guid":
      return typeof v === "string";
    case "int":
    case "long":
      return Number.isInteger(v);
    case "real":
    case "decimal":
    case "datetime":
    case "timespan":
      return typeof v === "number" && Number.isFinite(v);
    case "bool":
      return typeof v === "boolean";
    case "dynamic":
      return typeof v === "object";
  }
}

type Rec = Record<string, unknown>;

const NOW = Date.parse("2026-06-01T12:00:00Z");
let store: WorkspaceStore;
const run = (q: string) => executeKql(q, dataSource(store), { now: NOW });
/** A query's rows as plain arrays (result rows may carry hidden engine properties). */
const rowsOf = (q: string) => run(q).rows.map((r) => [...r]);

beforeAll(() => {
  store = new WorkspaceStore(join(mkdtempSync(join(tmpdir(), "gsmcp-schemas-")), "w.db"));
  seedStore(store, { seed: 7, size: "demo", now: NOW });
});
afterAll(() => store.close());

describe("seeded tables carry Azure's schemas", () => {
  it.each(Object.keys(AZURE_COLUMNS))("%s has Azure's columns with Azure's types", (table) => {
    const cols = LOG_TABLES[table]!;
    const byName = new Map(cols.map((c) => [c.name, c.type]));
    expect(byName.size, "no duplicate column names").toBe(cols.length);
    expect(cols[0]!.name).toBe("TimeGenerated");
    expect(cols.length).toBeGreaterThanOrEqual(MIN_COLUMNS[table]!);
    for (const [name, type] of Object.entries(AZURE_COLUMNS[table]!))
      expect([name, byName.get(name)]).toEqual([name, type]);
    expect(byName.get("TenantId")).toBe("string");
    // The policy analyzer reads the same schemas.
    expect(SENTINEL_TABLE_SCHEMAS.tables.find((t) => t.name === table)?.columns).toBe(cols);
  });

  it.each(Object.keys(AZURE_COLUMNS))(
    "every seeded %s row has a value of its column's type in every column",
    (table) => {
      const t = store.logTable(table)!;
      expect(t.rows.length).toBeGreaterThan(0);
      for (const row of t.rows) {
        expect(row.length).toBe(t.columns.length);
        t.columns.forEach((c, i) => {
          if (!typeOk(row[i]!, c.type)) expect.fail(`${table}.${c.name} = ${JSON.stringify(row[i])} is not ${c.type}`);
        });
      }
      // Every row names its table, as Azure's Type column does.
      expect(run(`${table} | where Type != '${table}' | count`).rows).toEqual([[0]]);
    },
  );
});

describe("dynamic and JSON columns have Azure's shapes", () => {
  it("SigninLogs: LocationDetails, DeviceDetail, Status, ConditionalAccessPolicies, AuthenticationDetails", () => {
    const r = run(
      "SigninLogs | project ResultType, ConditionalAccessStatus, LocationDetails, DeviceDetail, Status, ConditionalAccessPolicies, AuthenticationDetails, Location",
    );
    for (const [rt, ca, loc, dev, status, policies, auth, country] of r.rows as [
      string,
      string,
      Rec,
      Rec,
      Rec,
      Rec[],
      string,
      string,
    ][]) {
      expect(rt).toMatch(/^\d{1,6}$/);
      expect(["success", "failure", "notApplied"]).toContain(ca);
      expect(Object.keys(loc).sort()).toEqual(["city", "countryOrRegion", "geoCoordinates", "state"]);
      expect(loc).toMatchObject({ countryOrRegion: country, geoCoordinates: { latitude: expect.any(Number) } });
      expect(dev).toHaveProperty("operatingSystem");
      expect(dev).toHaveProperty("browser");
      expect(dev).toHaveProperty("deviceId");
      expect(status).toMatchObject({ errorCode: Number(rt) });
      if (rt !== "0") expect(typeof status.failureReason).toBe("string");
      for (const p of policies)
        expect(Object.keys(p)).toEqual(
          expect.arrayContaining(["id", "displayName", "result", "enforcedGrantControls"]),
        );
      const steps = JSON.parse(auth);
      expect(steps[0]).toMatchObject({ authenticationMethod: "Password", succeeded: expect.any(Boolean) });
    }
    const codes = new Set(r.rows.map((x) => x[0]));
    for (const c of ["0", "50126"]) expect(codes).toContain(c);
  });

  it("AuditLogs: InitiatedBy, TargetResources, AdditionalDetails", () => {
    const r = run("AuditLogs | project InitiatedBy, TargetResources, AdditionalDetails, Category, OperationName");
    for (const [by, targets, details] of r.rows as [Rec, Rec[], Rec[]][]) {
      expect(by.user).toMatchObject({
        id: expect.any(String),
        userPrincipalName: expect.stringContaining("@"),
        ipAddress: expect.any(String),
      });
      expect(Array.isArray(targets) && targets.length > 0).toBe(true);
      for (const t of targets) {
        expect(t).toMatchObject({ id: expect.any(String), type: expect.any(String) });
        expect(Array.isArray(t.modifiedProperties)).toBe(true);
        for (const m of t.modifiedProperties as Rec[])
          expect(Object.keys(m).sort()).toEqual(["displayName", "newValue", "oldValue"]);
      }
      for (const d of details) expect(Object.keys(d).sort()).toEqual(["key", "value"]);
    }
    // A category follows from the operation, as Entra files it.
    expect(
      run("AuditLogs | where OperationName == 'Reset password' and Category != 'UserManagement' | count").rows,
    ).toEqual([[0]]);
  });

  it("SecurityAlert: Entities and ExtendedProperties are JSON strings; SecurityIncident: Owner, AdditionalData", () => {
    for (const [entities, ext] of run("SecurityAlert | project Entities, ExtendedProperties").rows as [
      string,
      string,
    ][]) {
      const list = JSON.parse(entities);
      expect(Array.isArray(list)).toBe(true);
      for (const e of list) expect(e).toMatchObject({ $id: expect.any(String), Type: expect.any(String) });
      expect(typeof JSON.parse(ext)).toBe("object");
    }
    const inc = run(
      "SecurityIncident | project Owner, AdditionalData, RelatedAnalyticRuleIds, ProviderIncidentId, IncidentNumber",
    ).rows;
    expect(inc.length).toBeGreaterThan(0);
    for (const [owner, data, rules, pid, num] of inc as [object, Rec, string[], string, number][]) {
      expect(typeof owner).toBe("object");
      expect(data).toMatchObject({ alertsCount: expect.any(Number) });
      expect(rules.length).toBe(1);
      expect(pid).toBe(String(num));
    }
  });
});

describe("real-world style detections fire on the planted attack", () => {
  it("password spray: one IP failing 50126 against many accounts, then a success located in Moscow", () => {
    const spray = rowsOf(
      "SigninLogs | where ResultType == '50126' | summarize Accounts = dcount(UserPrincipalName) by IPAddress | where Accounts >= 10",
    );
    expect(spray).toEqual([[ATTACKER_IP, 12]]);
    const success = rowsOf(
      `SigninLogs | where IPAddress == '${ATTACKER_IP}' and ResultType == '0' | extend City = tostring(LocationDetails.city), Browser = tostring(DeviceDetail.browser), Code = toint(Status.errorCode) | project UserPrincipalName, City, Browser, Code, ClientAppUsed`,
    );
    expect(success).toEqual([["adele.vance@contoso.com", "Moscow", "Python Requests 2.31", 0, "Other clients"]]);
  });

  it("persistence: the attacker registers security info from the spray IP", () => {
    const r = rowsOf(
      `AuditLogs | where OperationName == 'User registered security info' | extend Ip = tostring(InitiatedBy.user.ipAddress), Who = tostring(TargetResources[0].userPrincipalName) | where Ip == '${ATTACKER_IP}' | project Who, Result`,
    );
    expect(r).toEqual([["adele.vance@contoso.com", "success"]]);
  });

  it("mailbox: a New-InboxRule forwarding outside, created from the spray IP", () => {
    const r = rowsOf(
      `OfficeActivity | where Operation =~ 'New-InboxRule' and Parameters has 'ForwardTo' | extend Ip = tostring(split(ClientIP, ':')[0]) | project UserId, Ip, RecordType, OfficeWorkload`,
    );
    expect(r).toEqual([["adele.vance@contoso.com", ATTACKER_IP, "ExchangeAdmin", "Exchange"]]);
    const rule = JSON.parse(
      rowsOf("OfficeActivity | where Operation == 'New-InboxRule' | project Parameters")[0]![0] as string,
    ) as { Name: string; Value: string }[];
    expect(rule.find((p) => p.Name === "ForwardTo")?.Value).toMatch(/@/);
  });

  it("endpoint and network: Outlook spawns encoded PowerShell, then the host beacons to the spray IP", () => {
    const ps = rowsOf(
      "DeviceProcessEvents | where FileName =~ 'powershell.exe' and ProcessCommandLine has '-enc' | project DeviceName, InitiatingProcessFileName, InitiatingProcessFolderPath, AccountUpn, FolderPath",
    );
    expect(ps).toEqual([
      [
        "WS-ADELE01",
        "outlook.exe",
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\outlook.exe",
        "adele.vance@contoso.com",
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
      ],
    ]);
    const beacons = rowsOf(
      `CommonSecurityLog | where DeviceVendor == 'Palo Alto Networks' and DestinationIP == '${ATTACKER_IP}' and DeviceAction == 'allow' | summarize Connections = count() by SourceIP, DestinationPort`,
    );
    expect(beacons).toEqual([[HOST_IPS["WS-ADELE01"], 443, 20]]);
  });
});
