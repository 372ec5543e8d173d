import { createHash } from "node:crypto";

// The demo tenant the seed populates: its users, apps, sign-in locations, hosts and processes, and the planted
// attack's source IP and stage-1 payload hash (which the TI indicators name too).

export const DOMAIN = "contoso.com";
export const USERS = [
  "adele.vance",
  "alex.wilber",
  "diego.siciliani",
  "grady.archie",
  "isaiah.langer",
  "johanna.lorenz",
  "lee.gu",
  "lidia.holloway",
  "megan.bowen",
  "miriam.graham",
  "nestor.wilke",
  "patti.fernandez",
];
export const APPS = [
  "Office 365 Exchange Online",
  "Microsoft Teams",
  "Azure Portal",
  "SharePoint Online",
  "Microsoft Graph",
];
export const LOCATIONS = ["US", "GB", "DE", "NL", "FR"];
export const ATTACKER_IP = "203.0.113.45";
export const HOSTS = ["WS-ADELE01", "WS-ALEX02", "WS-DIEGO03", "SRV-FILE01", "SRV-SQL02"];
export const PROCS = ["chrome.exe", "outlook.exe", "teams.exe", "excel.exe", "svchost.exe", "explorer.exe"];
/** SHA-256 of the stage-1 payload the seeded PowerShell run dropped (see seed-logs.ts, DeviceProcessEvents). */
export const STAGE1_SHA256 = createHash("sha256").update("stage1").digest("hex");
/** The hosts' addresses on the office network (the firewall logs carry them as SourceIP). */
export const HOST_IPS: Record<string, string> = {
  "WS-ADELE01": "10.20.1.15",
  "WS-ALEX02": "10.20.1.22",
  "WS-DIEGO03": "10.20.1.37",
  "SRV-FILE01": "10.10.0.10",
  "SRV-SQL02": "10.10.0.12",
};
/** The office's public egress address (what Microsoft 365 sees as the client IP of on-site users). */
export const OFFICE_EGRESS_IP = "198.51.100.20";
