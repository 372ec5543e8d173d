import { createHash } from "node:crypto";
import type { KqlValue } from "../kql/types.js";
import { memo, userObjectId, userSid, workspaceTenantId } from "./seed-logs-rows.js";
import { DOMAIN } from "./seed-tenant.js";

// The detail columns of Microsoft Defender for Endpoint process events (DeviceProcessEvents): where each program
// lives, who started it, its version information and hashes, as the Defender advanced hunting schema records them.

/** A file's hash (of a label standing for its content); the same few programs recur, so remembered. */
const hash = memo((alg: "md5" | "sha1" | "sha256", s: string) => createHash(alg).update(s).digest("hex"));

interface Program {
  folder: string;
  company: string;
  description: string;
  product: string;
  version: string;
  original: string;
}

const OFFICE = "C:\\Program Files\\Microsoft Office\\root\\Office16";
const MS = "Microsoft Corporation";
const WINDOWS = "Microsoft® Windows® Operating System";

/** Programs by file name: install folder and version information. */
const PROGRAMS: Record<string, Program> = {
  "chrome.exe": {
    folder: "C:\\Program Files\\Google\\Chrome\\Application",
    company: "Google LLC",
    description: "Google Chrome",
    product: "Google Chrome",
    version: "120.0.6099.130",
    original: "chrome.exe",
  },
  "outlook.exe": {
    folder: OFFICE,
    company: MS,
    description: "Microsoft Outlook",
    product: "Microsoft Outlook",
    version: "16.0.17126.20132",
    original: "Outlook.exe",
  },
  "excel.exe": {
    folder: OFFICE,
    company: MS,
    description: "Microsoft Excel",
    product: "Microsoft Office",
    version: "16.0.17126.20132",
    original: "Excel.exe",
  },
  "teams.exe": {
    folder: "C:\\Program Files\\WindowsApps\\MSTeams_23320.3027.2591.1505_x64__8wekyb3d8bbwe",
    company: MS,
    description: "Microsoft Teams",
    product: "Microsoft Teams",
    version: "23320.3027.2591.1505",
    original: "ms-teams.exe",
  },
  "svchost.exe": {
    folder: "C:\\Windows\\System32",
    company: MS,
    description: "Host Process for Windows Services",
    product: WINDOWS,
    version: "10.0.22621.1",
    original: "svchost.exe",
  },
  "explorer.exe": {
    folder: "C:\\Windows",
    company: MS,
    description: "Windows Explorer",
    product: WINDOWS,
    version: "10.0.22621.2861",
    original: "EXPLORER.EXE",
  },
  "services.exe": {
    folder: "C:\\Windows\\System32",
    company: MS,
    description: "Services and Controller app",
    product: WINDOWS,
    version: "10.0.22621.1",
    original: "services.exe",
  },
  "userinit.exe": {
    folder: "C:\\Windows\\System32",
    company: MS,
    description: "Userinit Logon Application",
    product: WINDOWS,
    version: "10.0.22621.1",
    original: "USERINIT.EXE",
  },
  "powershell.exe": {
    folder: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0",
    company: MS,
    description: "Windows PowerShell",
    product: WINDOWS,
    version: "10.0.22621.2506",
    original: "PowerShell.EXE",
  },
};

/** The process that starts a program, as Windows does: services run under services.exe, the shell under userinit. */
export function parentOf(file: string): string {
  if (file === "svchost.exe") return "services.exe";
  if (file === "explorer.exe") return "userinit.exe";
  return "explorer.exe";
}

/** The full path of a program (FolderPath in Defender tables is the folder and the file name). */
export function programPath(file: string): string {
  const p = PROGRAMS[file];
  return p ? `${p.folder}\\${file}` : `C:\\Program Files\\${file}`;
}

/** What the seed decided about one process creation. */
export interface ProcessFacts {
  seed: number;
  time: number;
  device: string;
  /** The user account name (without domain), or "system" for services. */
  account: string;
  file: string;
  commandLine: string;
  parent: string;
  sha256: string;
  /** Process ids, logon ids and report ids: 0..1 draws from the detail PRNG. */
  draws: [number, number, number];
  reportId: number;
}

const version = (prefix: string, p: Program | undefined): Record<string, KqlValue> => ({
  [`${prefix}VersionInfoCompanyName`]: p?.company ?? "",
  [`${prefix}VersionInfoFileDescription`]: p?.description ?? "",
  [`${prefix}VersionInfoInternalFileName`]: p?.original ?? "",
  [`${prefix}VersionInfoOriginalFileName`]: p?.original ?? "",
  [`${prefix}VersionInfoProductName`]: p?.product ?? "",
  [`${prefix}VersionInfoProductVersion`]: p?.version ?? "",
});

/** Every DeviceProcessEvents column by name. */
export function processDetails(f: ProcessFacts): Record<string, KqlValue> {
  const { seed } = f;
  const system = f.account === "system";
  const upn = system ? "" : `${f.account}@${DOMAIN}`;
  const domain = system ? "nt authority" : DOMAIN.split(".")[0]!;
  const sid = system ? "S-1-5-18" : userSid(seed, f.account);
  const objectId = system ? "" : userObjectId(seed, upn);
  const parentProgram = PROGRAMS[f.parent];
  const pid = 1000 + Math.floor(f.draws[0] * 30_000);
  const ppid = 500 + Math.floor(f.draws[1] * 9_000);
  const logonId = system ? 999 : 100_000 + Math.floor(f.draws[2] * 900_000);
  const started = f.time - 60_000 - Math.floor(f.draws[1] * 3_600_000);
  const account = {
    AccountDomain: domain,
    AccountName: f.account,
    AccountObjectId: objectId,
    AccountSid: sid,
    AccountUpn: upn,
  };
  return {
    TimeGenerated: f.time,
    DeviceName: f.device,
    FileName: f.file,
    FolderPath: programPath(f.file),
    ProcessCommandLine: f.commandLine,
    InitiatingProcessFileName: f.parent,
    SHA256: f.sha256,
    ActionType: "ProcessCreated",
    TenantId: workspaceTenantId(seed),
    Timestamp: f.time,
    ...account,
    AdditionalFields: null,
    AppGuardContainerId: "",
    DeviceId: hash("sha1", `${seed}:device:${f.device}`),
    FileSize: 100_000 + (Number.parseInt(f.sha256.slice(0, 6), 16) % 5_000_000),
    InitiatingProcessAccountDomain: domain,
    InitiatingProcessAccountName: f.account,
    InitiatingProcessAccountObjectId: objectId,
    InitiatingProcessAccountSid: sid,
    InitiatingProcessAccountUpn: upn,
    InitiatingProcessCommandLine: f.parent === "services.exe" ? "services.exe" : `"${f.parent}"`,
    InitiatingProcessCreationTime: started,
    InitiatingProcessFileSize: 200_000 + (Number.parseInt(hash("md5", f.parent).slice(0, 6), 16) % 3_000_000),
    InitiatingProcessFolderPath: programPath(f.parent),
    InitiatingProcessId: ppid,
    InitiatingProcessIntegrityLevel: system ? "System" : "Medium",
    InitiatingProcessLogonId: logonId,
    InitiatingProcessMD5: hash("md5", f.parent),
    InitiatingProcessParentCreationTime: started - 3_600_000,
    InitiatingProcessParentFileName: parentOf(f.parent),
    InitiatingProcessParentId: 400 + Math.floor(f.draws[2] * 400),
    InitiatingProcessSHA1: hash("sha1", f.parent),
    InitiatingProcessSHA256: hash("sha256", f.parent),
    InitiatingProcessSignatureStatus: "Valid",
    InitiatingProcessSignerType: parentProgram?.company === MS ? "OsVendor" : "ThirdParty",
    InitiatingProcessTokenElevation: system ? "TokenElevationTypeDefault" : "TokenElevationTypeLimited",
    ...version("InitiatingProcess", parentProgram),
    LogonId: logonId,
    MachineGroup: f.device.startsWith("SRV-") ? "Servers" : "Workstations",
    MD5: hash("md5", f.file + f.sha256),
    ProcessCreationTime: f.time,
    ProcessId: pid,
    ProcessIntegrityLevel: system ? "System" : "Medium",
    ProcessTokenElevation: system ? "TokenElevationTypeDefault" : "TokenElevationTypeLimited",
    ...version("Process", PROGRAMS[f.file]),
    ReportId: f.reportId,
    SHA1: hash("sha1", f.file + f.sha256),
    SourceSystem: "",
    Type: "DeviceProcessEvents",
  };
}
