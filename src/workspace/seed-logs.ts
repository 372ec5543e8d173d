import { createHash } from "node:crypto";
import { seedGuid } from "./seed-determinism.js";
import type { SeedRun } from "./seed-run.js";
import { APPS, ATTACKER_IP, HOSTS, LOCATIONS, PROCS, STAGE1_SHA256, USERS } from "./seed-tenant.js";

// Log rows beyond the incidents: background alerts, sign-ins (with the planted password spray), directory audits
// and process events (with the planted encoded PowerShell run). `total` sizes the three bulk tables.

/** The planted spray starts three hours before the reference time; the PowerShell run follows it. */
function sprayStartTime(now: number): number {
  return now - 3 * 3_600_000;
}

/** Every log table's rows, in the order they draw from the PRNG. */
export function seedLogs(run: SeedRun, total: number): void {
  seedBackgroundAlerts(run);
  seedSigninLogs(run, total);
  seedAuditLogs(run, total);
  seedProcessEvents(run, total);
}

function seedBackgroundAlerts(run: SeedRun): void {
  const { seed, now, rand, pick, logs } = run;
  // Background alerts not in incidents.
  for (let i = 0; i < 40; i++) {
    const t = now - Math.floor(rand() * 6 * 86_400_000);
    const sev = pick(["Low", "Informational", "Medium"]);
    const nm = pick([
      "Anomalous token",
      "Unfamiliar sign-in properties",
      "Suspicious file download",
      "Atypical travel",
    ]);
    logs.SecurityAlert!.push([
      t,
      nm,
      nm,
      sev,
      `${nm} for ${pick(USERS)}@contoso.com`,
      "ASI Scheduled Alerts",
      "Microsoft",
      "Azure Active Directory Identity Protection",
      seedGuid(seed, `bg-alert-${i}`),
      "New",
      `${pick(USERS)}@contoso.com`,
      "InitialAccess",
      "",
      "[]",
      t - 60_000,
      t,
    ]);
  }
}

function seedSigninLogs(run: SeedRun, total: number): void {
  const { now, rand, pick, logs } = run;
  const signins = Math.max(100, Math.floor(total * 0.6));
  for (let i = 0; i < signins; i++) {
    const t = now - Math.floor(rand() * 7 * 86_400_000);
    const user = pick(USERS);
    const ok = rand() < 0.93;
    logs.SigninLogs!.push([
      t,
      `${user}@contoso.com`,
      user.replace(".", " "),
      `10.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}`,
      pick(LOCATIONS),
      pick(APPS),
      ok ? "0" : "50126",
      ok ? "" : "Invalid username or password",
      "Browser",
      "Mozilla/5.0",
      ok ? "success" : "notApplied",
      "none",
    ]);
  }
  // The planted spray: 38 failures from one IP across every user, then one success.
  const sprayStart = sprayStartTime(now);
  for (let i = 0; i < 38; i++) {
    logs.SigninLogs!.push([
      sprayStart + i * 15_000,
      `${USERS[i % USERS.length]}@contoso.com`,
      "",
      ATTACKER_IP,
      "RU",
      "Office 365 Exchange Online",
      "50126",
      "Invalid username or password",
      "Other clients",
      "python-requests/2.31",
      "notApplied",
      "high",
    ]);
  }
  logs.SigninLogs!.push([
    sprayStart + 40 * 15_000,
    "adele.vance@contoso.com",
    "Adele Vance",
    ATTACKER_IP,
    "RU",
    "Office 365 Exchange Online",
    "0",
    "",
    "Other clients",
    "python-requests/2.31",
    "notApplied",
    "high",
  ]);
}

function seedAuditLogs(run: SeedRun, total: number): void {
  const { now, rand, pick, logs } = run;
  const audits = Math.max(30, Math.floor(total * 0.15));
  for (let i = 0; i < audits; i++) {
    const t = now - Math.floor(rand() * 7 * 86_400_000);
    logs.AuditLogs!.push([
      t,
      pick([
        "Add member to group",
        "Update user",
        "Reset password",
        "Add service principal credentials",
        "Consent to application",
      ]),
      pick(["GroupManagement", "UserManagement", "ApplicationManagement"]),
      rand() < 0.95 ? "success" : "failure",
      { user: { userPrincipalName: `${pick(USERS)}@contoso.com` } },
      [{ displayName: pick(USERS) }],
      "Core Directory",
    ]);
  }
}

function seedProcessEvents(run: SeedRun, total: number): void {
  const { now, rand, pick, logs } = run;
  const sprayStart = sprayStartTime(now);
  const procs = Math.max(60, Math.floor(total * 0.25));
  for (let i = 0; i < procs; i++) {
    const t = now - Math.floor(rand() * 7 * 86_400_000);
    const p = pick(PROCS);
    logs.DeviceProcessEvents!.push([
      t,
      pick(HOSTS),
      pick(USERS),
      p,
      `C:\\Program Files\\${p}`,
      p,
      "explorer.exe",
      createHash("sha256").update(p).digest("hex"),
      "ProcessCreated",
    ]);
  }
  logs.DeviceProcessEvents!.push([
    sprayStart + 50 * 15_000,
    "WS-ADELE01",
    "adele.vance",
    "powershell.exe",
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
    "outlook.exe",
    STAGE1_SHA256,
    "ProcessCreated",
  ]);
}
