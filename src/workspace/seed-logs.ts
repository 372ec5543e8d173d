import { createHash } from "node:crypto";
import { seedGuid } from "./seed-determinism.js";
import { completeAlertsAndIncidents } from "./seed-logs-alerts.js";
import { processDetails } from "./seed-logs-endpoint.js";
import {
  AUDIT_OPERATIONS,
  auditDetails,
  BROWSER_UA,
  EVERYDAY_FAILURES,
  type SigninFacts,
  signinDetails,
} from "./seed-logs-identity.js";
import { firewallRows } from "./seed-logs-network.js";
import { officeRows, plantedMailboxTakeover } from "./seed-logs-office.js";
import { detailRandom, rowOf, rowsOf, userObjectId, workspaceTenantId } from "./seed-logs-rows.js";
import type { SeedRun } from "./seed-run.js";
import { APPS, ATTACKER_IP, DOMAIN, HOSTS, LOCATIONS, PROCS, STAGE1_SHA256, USERS } from "./seed-tenant.js";

// Log rows beyond the incidents: background alerts, sign-ins (with the planted password spray), directory audits,
// process events (with the planted encoded PowerShell run), Microsoft 365 activity (with the planted inbox rule) and
// firewall CEF events (with the planted beaconing). `total` sizes the bulk tables. Every row carries its table's
// full schema (src/workspace/schemas.ts); who, when, where and whether it worked are drawn from the run's PRNG (the
// sign-ins, alerts and process events draw as they did before the full schemas), the detail columns from PRNGs of
// their own (seed-logs-rows.ts, detailRandom), so adding a detail does not reshuffle the data.

/** The planted spray starts three hours before the reference time; the PowerShell run follows it. */
function sprayStartTime(now: number): number {
  return now - 3 * 3_600_000;
}
/** The spray's one successful sign-in (as adele.vance). */
const spraySuccessTime = (now: number) => sprayStartTime(now) + 40 * 15_000;
/** The encoded PowerShell run on WS-ADELE01. */
const powershellTime = (now: number) => sprayStartTime(now) + 50 * 15_000;

/** Every log table's rows, in the order they draw from the PRNG. */
export function seedLogs(run: SeedRun, total: number, onStep?: (done: number, of: number) => void): void {
  // Each generator in turn (fixed order: they share the one PRNG); onStep reports how many have run, for a progress bar.
  const steps = [
    () => completeAlertsAndIncidents(run),
    () => seedBackgroundAlerts(run),
    () => seedSigninLogs(run, total),
    () => seedAuditLogs(run, total),
    () => seedProcessEvents(run, total),
    () => seedOfficeActivity(run, total),
    () => seedFirewall(run, total),
  ];
  steps.forEach((step, i) => {
    onStep?.(i, steps.length);
    step();
  });
  onStep?.(steps.length, steps.length);
}

/** Identity Protection alert names and their alert types (background alerts, not in incidents). */
const IPC_ALERTS: Record<string, string> = {
  "Anomalous token": "AnomalousToken",
  "Unfamiliar sign-in properties": "UnfamiliarLocation",
  "Malicious IP address": "MaliciousIPAddress",
  "Atypical travel": "ImpossibleTravel",
};

function seedBackgroundAlerts(run: SeedRun): void {
  const { seed, now, rand, pick, logs } = run;
  for (let i = 0; i < 40; i++) {
    const t = now - Math.floor(rand() * 6 * 86_400_000);
    const sev = pick(["Low", "Informational", "Medium"]);
    const nm = pick(Object.keys(IPC_ALERTS));
    const about = `${pick(USERS)}@${DOMAIN}`;
    const entity = `${pick(USERS)}@${DOMAIN}`;
    const id = seedGuid(seed, `bg-alert-${i}`);
    logs.SecurityAlert!.push(
      rowOf("SecurityAlert", {
        TimeGenerated: t,
        DisplayName: nm,
        AlertName: nm,
        AlertSeverity: sev,
        Description: `${nm} for ${about}`,
        ProviderName: "IPC",
        VendorName: "Microsoft",
        ProductName: "Azure Active Directory Identity Protection",
        SystemAlertId: id,
        Status: "New",
        CompromisedEntity: entity,
        Tactics: "InitialAccess",
        Techniques: '["T1078"]',
        Entities: JSON.stringify([
          {
            $id: "2",
            Name: entity.split("@")[0],
            UPNSuffix: DOMAIN,
            AadUserId: userObjectId(seed, entity),
            Type: "account",
          },
        ]),
        StartTime: t - 60_000,
        EndTime: t,
        TenantId: workspaceTenantId(seed),
        AlertLink: "",
        AlertType: IPC_ALERTS[nm],
        ConfidenceLevel: "Unknown",
        ExtendedLinks: "",
        ExtendedProperties: JSON.stringify({ "Detail Id": seedGuid(seed, `bg-detail-${i}`), State: "Open" }),
        IsIncident: false,
        ProcessingEndTime: t + 300_000,
        ProductComponentName: "",
        RemediationSteps: JSON.stringify(["Review the sign-in and, if it was not the user, reset their password."]),
        ResourceId: "",
        SourceComputerId: "",
        SubTechniques: "",
        VendorOriginalId: seedGuid(seed, `bg-vendor-${i}`),
        WorkspaceResourceGroup: "",
        WorkspaceSubscriptionId: "",
        SourceSystem: "Detection",
        Type: "SecurityAlert",
      }),
    );
  }
}

function signinRow(f: SigninFacts) {
  return rowOf("SigninLogs", signinDetails(f));
}

function seedSigninLogs(run: SeedRun, total: number): void {
  const { seed, now, rand, pick, logs } = run;
  const detail = detailRandom(seed, "signin-details");
  const signins = Math.max(100, Math.floor(total * 0.6));
  for (let i = 0; i < signins; i++) {
    const t = now - Math.floor(rand() * 7 * 86_400_000);
    const user = pick(USERS);
    const ok = rand() < 0.93;
    const ip = `10.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}`;
    const country = pick(LOCATIONS);
    const app = pick(APPS);
    const host = HOSTS.find((h) => h.toLowerCase().includes(user.split(".")[0]!.slice(0, 4)));
    logs.SigninLogs!.push(
      signinRow({
        seed,
        time: t,
        upn: `${user}@${DOMAIN}`,
        displayName: displayNameOf(user),
        ip,
        country,
        app,
        resultType: ok ? "0" : detail.pick(EVERYDAY_FAILURES),
        client: "browser",
        userAgent: BROWSER_UA,
        risk: "none",
        device: host ? { id: seedGuid(seed, `aad-device:${host}`), name: host } : undefined,
        key: `bg-${i}`,
      }),
    );
  }
  // The planted spray: 38 failures from one IP across every user, then one success.
  const sprayStart = sprayStartTime(now);
  const spray = (i: number, upn: string, displayName: string, resultType: string, time: number) =>
    signinRow({
      seed,
      time,
      upn,
      displayName,
      ip: ATTACKER_IP,
      country: "RU",
      app: "Office 365 Exchange Online",
      resultType,
      client: "legacy",
      userAgent: "python-requests/2.31",
      risk: "high",
      key: `spray-${i}`,
    });
  for (let i = 0; i < 38; i++)
    logs.SigninLogs!.push(spray(i, `${USERS[i % USERS.length]}@${DOMAIN}`, "", "50126", sprayStart + i * 15_000));
  logs.SigninLogs!.push(spray(38, `adele.vance@${DOMAIN}`, "Adele Vance", "0", spraySuccessTime(now)));
}

const displayNameOf = (user: string) => user.replace(".", " ");

function seedAuditLogs(run: SeedRun, total: number): void {
  const { seed, now, rand, pick, logs } = run;
  const detail = detailRandom(seed, "audit-details");
  const audits = Math.max(30, Math.floor(total * 0.15));
  for (let i = 0; i < audits; i++) {
    const t = now - Math.floor(rand() * 7 * 86_400_000);
    const op = pick(AUDIT_OPERATIONS);
    const ok = rand() < 0.95;
    const actor = `${pick(USERS)}@${DOMAIN}`;
    const target = `${pick(USERS)}@${DOMAIN}`;
    logs.AuditLogs!.push(
      rowOf(
        "AuditLogs",
        auditDetails({
          seed,
          time: t,
          op,
          ok,
          actorUpn: actor,
          actorIp: `10.20.1.${10 + Math.floor(detail.rand() * 200)}`,
          targetUser: target,
          which: detail.rand(),
          key: `bg-${i}`,
        }),
      ),
    );
  }
  // The planted persistence: from the spray IP, signed in as Adele, the attacker registers an authenticator app.
  const adele = `adele.vance@${DOMAIN}`;
  logs.AuditLogs!.push(
    rowOf(
      "AuditLogs",
      auditDetails({
        seed,
        time: spraySuccessTime(now) + 300_000,
        op: AUDIT_OPERATIONS.find((o) => o.name === "User registered security info")!,
        ok: true,
        actorUpn: adele,
        actorIp: ATTACKER_IP,
        targetUser: adele,
        which: 0,
        key: "planted-mfa",
      }),
    ),
  );
}

function seedProcessEvents(run: SeedRun, total: number): void {
  const { seed, now, rand, pick, logs } = run;
  const detail = detailRandom(seed, "process-details");
  const draws = (): [number, number, number] => [detail.rand(), detail.rand(), detail.rand()];
  const procs = Math.max(60, Math.floor(total * 0.25));
  let report = 10_000;
  for (let i = 0; i < procs; i++) {
    const t = now - Math.floor(rand() * 7 * 86_400_000);
    const p = pick(PROCS);
    const device = pick(HOSTS);
    const user = pick(USERS);
    const account = p === "svchost.exe" ? "system" : user;
    logs.DeviceProcessEvents!.push(
      rowOf(
        "DeviceProcessEvents",
        processDetails({
          seed,
          time: t,
          device,
          account,
          file: p,
          commandLine: p === "svchost.exe" ? "svchost.exe -k netsvcs -p -s Schedule" : `"${p}"`,
          parent: p === "svchost.exe" ? "services.exe" : p === "explorer.exe" ? "userinit.exe" : "explorer.exe",
          sha256: createHash("sha256").update(p).digest("hex"),
          draws: draws(),
          reportId: report++,
        }),
      ),
    );
  }
  logs.DeviceProcessEvents!.push(
    rowOf(
      "DeviceProcessEvents",
      processDetails({
        seed,
        time: powershellTime(now),
        device: "WS-ADELE01",
        account: "adele.vance",
        file: "powershell.exe",
        commandLine:
          "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
        parent: "outlook.exe",
        sha256: STAGE1_SHA256,
        draws: draws(),
        reportId: report++,
      }),
    ),
  );
}

function seedOfficeActivity(run: SeedRun, total: number): void {
  const { seed, now } = run;
  const rows = rowsOf(run, "OfficeActivity");
  rows.push(...officeRows(seed, now, Math.max(40, Math.floor(total * 0.1)), detailRandom(seed, "office")));
  rows.push(...plantedMailboxTakeover(seed, spraySuccessTime(now)));
}

function seedFirewall(run: SeedRun, total: number): void {
  const { seed, now } = run;
  const rows = rowsOf(run, "CommonSecurityLog");
  rows.push(
    ...firewallRows(
      seed,
      now,
      Math.max(60, Math.floor(total * 0.1)),
      powershellTime(now) + 30_000,
      detailRandom(seed, "cef"),
    ),
  );
}
