import type { KqlValue } from "../kql/types.js";
import { seedGuid } from "./seed-determinism.js";
import { BROWSER_UA } from "./seed-logs-identity.js";
import { aadTenantId, type DetailRandom, rowOf, workspaceTenantId } from "./seed-logs-rows.js";
import { ATTACKER_IP, DOMAIN, OFFICE_EGRESS_IP, USERS } from "./seed-tenant.js";

// Microsoft 365 audit records (OfficeActivity): SharePoint file operations, Exchange mailbox access and Teams
// activity by the demo users, with the Operation, RecordType, OfficeWorkload and per-workload columns the Office 365
// Management Activity API schema defines. Includes the planted business-email-compromise step: after the spray's
// successful sign-in, the attacker reads Adele's mail and creates an inbox rule forwarding payment mail outside.

const ORG = `${DOMAIN.split(".")[0]}.onmicrosoft.com`;
const SITES = ["Finance", "Sales", "HR", "Engineering"];
const FILES = ["Q3-forecast.xlsx", "Board deck.pptx", "Payroll 2026.xlsx", "Onboarding.docx", "Architecture.vsdx"];
const SP_OPS = ["FileAccessed", "FileAccessed", "FileModified", "FileDownloaded", "FileUploaded"];
const TEAMS = ["Finance Team", "Project Falcon", "All Company"];

interface Actor {
  seed: number;
  time: number;
  upn: string;
  ip: string;
  key: string;
}

function common(a: Actor, workload: string, recordType: string, operation: string): Record<string, KqlValue> {
  const tenant = aadTenantId(a.seed);
  const id = seedGuid(a.seed, `office-${a.key}`);
  return {
    TimeGenerated: a.time,
    TenantId: workspaceTenantId(a.seed),
    Operation: operation,
    RecordType: recordType,
    OfficeWorkload: workload,
    UserId: a.upn,
    UserKey: seedGuid(a.seed, `puid:${a.upn}`).replace(/-/g, "").slice(0, 16).toUpperCase(),
    UserType: "Regular",
    ClientIP: a.ip,
    OfficeId: id,
    SourceRecordId: id,
    OrganizationId: tenant,
    OfficeTenantId: tenant,
    OrganizationName: ORG,
    UserDomain: DOMAIN,
    SourceSystem: "OfficeActivityManager",
    Type: "OfficeActivity",
  };
}

function sharePoint(a: Actor, r: DetailRandom): KqlValue[] {
  const site = r.pick(SITES);
  const file = r.pick(FILES);
  const siteUrl = `https://${DOMAIN.split(".")[0]}.sharepoint.com/sites/${site}/`;
  return rowOf("OfficeActivity", {
    ...common(a, "SharePoint", "SharePointFileOperation", r.pick(SP_OPS)),
    EventSource: "SharePoint",
    ItemType: "File",
    Site_: seedGuid(a.seed, `site:${site}`),
    Site_Url: siteUrl,
    SourceRelativeUrl: "Shared Documents",
    SourceFileName: file,
    SourceFileExtension: file.split(".").pop()!,
    OfficeObjectId: `${siteUrl}Shared Documents/${file}`,
    UserAgent: BROWSER_UA,
    IsManagedDevice: true,
  });
}

function mailAccess(a: Actor, client: string, owner: string): KqlValue[] {
  return rowOf("OfficeActivity", {
    ...common(a, "Exchange", "ExchangeItemAggregated", "MailItemsAccessed"),
    ResultStatus: "Succeeded",
    Logon_Type: "Owner",
    InternalLogonType: 0,
    ClientInfoString: client,
    MailboxOwnerUPN: owner,
    MailboxGuid: seedGuid(a.seed, `mailbox:${owner}`),
    MailboxOwnerSid: `S-1-5-21-${seedGuid(a.seed, `mbx-sid:${owner}`).replace(/\D/g, "").slice(0, 10)}`,
    OperationProperties: [
      { Name: "MailAccessType", Value: "Bind" },
      { Name: "IsThrottled", Value: "False" },
    ],
    OriginatingServer: "AM0PR01MB6321 (15.20.7159.000)",
  });
}

function teams(a: Actor, r: DetailRandom): KqlValue[] {
  const team = r.pick(TEAMS);
  return rowOf("OfficeActivity", {
    ...common(a, "MicrosoftTeams", "MicrosoftTeams", r.pick(["TeamsSessionStarted", "MessageSent", "MemberAdded"])),
    TeamName: team,
    TeamGuid: `19:${seedGuid(a.seed, `team:${team}`).replace(/-/g, "")}@thread.tacv2`,
    CommunicationType: "Team",
    UserAgent: "Microsoft Teams/23320.3027.2591.1505",
  });
}

/** Background Microsoft 365 activity of the demo users (from the office's egress IP). */
export function officeRows(seed: number, now: number, count: number, r: DetailRandom): KqlValue[][] {
  const rows: KqlValue[][] = [];
  for (let i = 0; i < count; i++) {
    const upn = `${r.pick(USERS)}@${DOMAIN}`;
    const a: Actor = {
      seed,
      time: now - Math.floor(r.rand() * 7 * 86_400_000),
      upn,
      ip: OFFICE_EGRESS_IP,
      key: `bg-${i}`,
    };
    const kind = r.rand();
    rows.push(
      kind < 0.5 ? sharePoint(a, r) : kind < 0.8 ? mailAccess(a, "Client=OUTLOOK.EXE;Client=RPC;", upn) : teams(a, r),
    );
  }
  return rows;
}

/**
 * The planted mailbox takeover: the attacker (from the spray IP, signed in as Adele) reads her mail with a scripted
 * client, then creates an inbox rule forwarding payment-related mail to an outside address and hiding it.
 */
export function plantedMailboxTakeover(seed: number, signedIn: number): KqlValue[][] {
  const upn = `adele.vance@${DOMAIN}`;
  const rows: KqlValue[][] = [];
  for (let i = 0; i < 3; i++)
    rows.push(
      mailAccess(
        { seed, time: signedIn + (i + 1) * 40_000, upn, ip: ATTACKER_IP, key: `planted-read-${i}` },
        "Client=REST;Client=RESTSystem;;",
        upn,
      ),
    );
  const parameters = [
    { Name: "AlwaysDeleteOutlookRulesBlob", Value: "False" },
    { Name: "Force", Value: "False" },
    { Name: "SubjectOrBodyContainsWords", Value: "invoice;payment;wire transfer" },
    { Name: "ForwardTo", Value: "adele.vance.archive@outlook.example" },
    { Name: "MoveToFolder", Value: "RSS Subscriptions" },
    { Name: "Name", Value: "." },
    { Name: "StopProcessingRules", Value: "True" },
  ];
  rows.push(
    rowOf("OfficeActivity", {
      ...common(
        { seed, time: signedIn + 180_000, upn, ip: ATTACKER_IP, key: "planted-inbox-rule" },
        "Exchange",
        "ExchangeAdmin",
        "New-InboxRule",
      ),
      ResultStatus: "True",
      ExternalAccess: "false",
      OfficeObjectId: `${ORG}/Microsoft Exchange Hosted Organizations/${ORG}/adele.vance\\.`,
      OriginatingServer: "AM0PR01MB6321 (15.20.7159.000)",
      Parameters: JSON.stringify(parameters),
      ClientIP: `${ATTACKER_IP}:50714`,
    }),
  );
  return rows;
}
