import type { KqlValue } from "../kql/types.js";
import { seedGuid, stableGuid } from "./seed-determinism.js";
import { aadTenantId, memo, sharedGuid, userObjectId, workspaceTenantId } from "./seed-logs-rows.js";

// The detail columns of Entra ID sign-in and audit records, with the values and shapes Azure writes (Microsoft Entra
// sign-in and audit log schemas; Entra authentication error codes). The seed decides who signs in, when, from where
// and whether it worked; these functions fill in everything else a real record carries.

const iso = (ms: number) => new Date(ms).toISOString();

/** Where sign-ins from a country are located: LocationDetails and the network's autonomous system. */
const PLACES: Record<string, { city: string; state: string; latitude: number; longitude: number; asn: string }> = {
  US: { city: "Redmond", state: "Washington", latitude: 47.674, longitude: -122.1215, asn: "8075" },
  GB: { city: "London", state: "England", latitude: 51.5074, longitude: -0.1278, asn: "5089" },
  DE: { city: "Berlin", state: "Berlin", latitude: 52.52, longitude: 13.405, asn: "3320" },
  NL: { city: "Amsterdam", state: "Noord-Holland", latitude: 52.3676, longitude: 4.9041, asn: "1136" },
  FR: { city: "Paris", state: "Paris", latitude: 48.8566, longitude: 2.3522, asn: "3215" },
  RU: { city: "Moscow", state: "Moskva", latitude: 55.7558, longitude: 37.6173, asn: "49505" },
};

/** LocationDetails as Entra writes it: {city, state, countryOrRegion, geoCoordinates: {latitude, longitude}}. */
export const locationDetails = memo((country: string): Record<string, unknown> => {
  const p = PLACES[country];
  return {
    city: p?.city ?? "",
    state: p?.state ?? "",
    countryOrRegion: country,
    geoCoordinates: p ? { latitude: p.latitude, longitude: p.longitude } : {},
  };
});

/** The client applications users sign in to: their well-known application ids and the resource they call. */
const APP_IDS: Record<string, { appId: string; resource: string; resourceId: string }> = {
  "Office 365 Exchange Online": {
    appId: "00000002-0000-0ff1-ce00-000000000000",
    resource: "Office 365 Exchange Online",
    resourceId: "00000002-0000-0ff1-ce00-000000000000",
  },
  "Microsoft Teams": {
    appId: "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
    resource: "Microsoft Teams Services",
    resourceId: "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
  },
  "Azure Portal": {
    appId: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
    resource: "Windows Azure Service Management API",
    resourceId: "797f4846-ba00-4fd7-ba43-dac1f8f63013",
  },
  "SharePoint Online": {
    appId: "00000003-0000-0ff1-ce00-000000000000",
    resource: "Office 365 SharePoint Online",
    resourceId: "00000003-0000-0ff1-ce00-000000000000",
  },
  "Microsoft Graph": {
    appId: "00000003-0000-0000-c000-000000000000",
    resource: "Microsoft Graph",
    resourceId: "00000003-0000-0000-c000-000000000000",
  },
};

/** Entra sign-in result codes: ResultType (a string), its ResultDescription and Status.failureReason. */
export const SIGNIN_RESULTS: Record<string, { description: string; failureReason: string; ca?: string }> = {
  "0": { description: "", failureReason: "" },
  "50126": {
    description: "Invalid username or password or Invalid on-premise username or password.",
    failureReason: "Error validating credentials due to invalid username or password.",
  },
  "50053": {
    description:
      "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
    failureReason:
      "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
  },
  "50074": {
    description: "Strong Authentication is required.",
    failureReason: "Strong Authentication is required.",
  },
  "50140": {
    description: "This error occurred due to 'Keep me signed in' interrupt when the user was signing-in.",
    failureReason: "This error occurred due to 'Keep me signed in' interrupt when the user was signing-in.",
  },
  "500121": {
    description: "Authentication failed during strong authentication request.",
    failureReason: "Authentication failed during strong authentication request.",
  },
  "53003": {
    description:
      "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
    failureReason:
      "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
    ca: "failure",
  },
};

/** Failure codes of everyday sign-ins (not an attack), weighted as they commonly occur. */
export const EVERYDAY_FAILURES = ["50126", "50126", "50126", "50140", "50140", "50074", "500121", "53003", "50053"];

export const BROWSER_UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";

/** What the seed decided about one sign-in; the rest of the record follows from it. */
export interface SigninFacts {
  seed: number;
  time: number;
  upn: string;
  displayName: string;
  ip: string;
  country: string;
  app: string;
  resultType: string;
  /** Browser sign-in (interactive, modern auth) or a scripted legacy client. */
  client: "browser" | "legacy";
  userAgent: string;
  risk: "none" | "high";
  device?: { id: string; name: string };
  /** Which sign-in of the run this is: ids derive from it. */
  key: string;
}

/** The policies in the tenant and how each applied; legacy auth blocking is only in report-only mode. */
const caPolicies = memo((seed: number, app: string, client: string, resultType: string): unknown[] => {
  const f = { app, client, resultType };
  const failed = f.resultType !== "0";
  const mfa = {
    id: sharedGuid(seed, "ca-mfa-admins"),
    displayName: "Require MFA for Azure management",
    enforcedGrantControls: ["Mfa"],
    enforcedSessionControls: [],
    result: f.app === "Azure Portal" ? (failed ? "failure" : "success") : "notApplied",
  };
  const legacy = {
    id: sharedGuid(seed, "ca-block-legacy"),
    displayName: "Block legacy authentication (report-only)",
    enforcedGrantControls: ["Block"],
    enforcedSessionControls: [],
    result: f.client === "legacy" ? "reportOnlyFailure" : "reportOnlyNotApplied",
  };
  const compliant = {
    id: sharedGuid(seed, "ca-compliant-device"),
    displayName: "Require compliant device for Office 365",
    enforcedGrantControls: ["RequireCompliantDevice"],
    enforcedSessionControls: [],
    result: f.resultType === "53003" ? "failure" : f.client === "browser" && !failed ? "success" : "notApplied",
  };
  return [mfa, legacy, compliant];
});

/** DeviceDetail as Entra writes it; shared by the sign-ins from one device and client. */
const deviceDetail = memo(
  (client: string, id: string, name: string): Record<string, unknown> =>
    client === "legacy"
      ? { deviceId: "", operatingSystem: "", browser: "Python Requests 2.31" }
      : {
          deviceId: id,
          displayName: name,
          operatingSystem: "Windows10",
          browser: "Edge 120.0.0",
          isCompliant: id !== "",
          isManaged: id !== "",
          trustType: id ? "Azure AD joined" : "",
        },
);

/** Status as Entra writes it: the error code, and why a sign-in failed. */
const statusOf = memo((resultType: string): Record<string, unknown> => {
  const r = SIGNIN_RESULTS[resultType];
  return resultType === "0"
    ? { errorCode: 0 }
    : { errorCode: Number(resultType), failureReason: r?.failureReason ?? "", additionalDetails: "" };
});

const NO_LISTENERS: unknown[] = [];
const PROCESSING_DETAILS = JSON.stringify([
  { key: "Legacy TLS (TLS 1.0, 1.1, 3DES)", value: "False" },
  { key: "Is CAE Token", value: "False" },
]);
const aadResourceId = memo((tid: string) => `/tenants/${tid}/providers/Microsoft.aadiam`);
const NO_MFA = {};

/** Every SigninLogs column by name: the ones the seed decided and the details that follow from them. */
export function signinDetails(f: SigninFacts): Record<string, KqlValue> {
  const { seed } = f;
  const app = APP_IDS[f.app] ?? { appId: sharedGuid(0, `app:${f.app}`), resource: f.app, resourceId: "" };
  const result = SIGNIN_RESULTS[f.resultType] ?? { description: "", failureReason: "" };
  const ok = f.resultType === "0";
  const tid = aadTenantId(seed);
  const id = seedGuid(seed, `signin-${f.key}`);
  const legacy = f.client === "legacy";
  const step = {
    authenticationStepDateTime: iso(f.time),
    authenticationMethod: "Password",
    authenticationMethodDetail: "Password in the cloud",
    succeeded: ok || f.resultType === "50074" || f.resultType === "500121",
    authenticationStepResultDetail: ok ? "Correct password" : result.failureReason,
    authenticationStepRequirement: "Primary authentication",
    StatusSequence: 0,
    RequestSequence: ok ? 1 : 0,
  };
  const highRisk = f.risk === "high";
  return {
    TimeGenerated: f.time,
    UserPrincipalName: f.upn,
    UserDisplayName: f.displayName,
    IPAddress: f.ip,
    Location: f.country,
    AppDisplayName: f.app,
    ResultType: f.resultType,
    ClientAppUsed: legacy ? "Other clients" : "Browser",
    UserAgent: f.userAgent,
    RiskLevelDuringSignIn: f.risk,
    TenantId: workspaceTenantId(seed),
    ResultDescription: result.description,
    AADTenantId: tid,
    AlternateSignInName: f.upn,
    AppId: app.appId,
    AppliedEventListeners: NO_LISTENERS,
    AuthenticationContextClassReferences: "[]",
    AuthenticationDetails: JSON.stringify([step]),
    AuthenticationMethodsUsed: "",
    AuthenticationProcessingDetails: PROCESSING_DETAILS,
    AuthenticationProtocol: legacy ? "ropc" : "none",
    AuthenticationRequirement: f.app === "Azure Portal" ? "multiFactorAuthentication" : "singleFactorAuthentication",
    AuthenticationRequirementPolicies: "[]",
    AutonomousSystemNumber: PLACES[f.country]?.asn ?? "",
    Category: "SignInLogs",
    ConditionalAccessPolicies: caPolicies(seed, f.app, f.client, f.resultType),
    ConditionalAccessStatus: result.ca ?? (ok && !legacy ? "success" : "notApplied"),
    CorrelationId: seedGuid(seed, `signin-corr-${f.key}`),
    CreatedDateTime: f.time,
    CrossTenantAccessType: "none",
    DeviceDetail: deviceDetail(legacy ? "legacy" : "browser", f.device?.id ?? "", f.device?.name ?? ""),
    DurationMs: 0,
    FlaggedForReview: false,
    HomeTenantId: tid,
    Id: id,
    Identity: f.displayName,
    IPAddressFromResourceProvider: "",
    IsInteractive: !legacy,
    IsRisky: highRisk,
    Level: "4",
    LocationDetails: locationDetails(f.country),
    MfaDetail: NO_MFA,
    NetworkLocationDetails: "[]",
    OperationName: "Sign-in activity",
    OperationVersion: "1.0",
    OriginalRequestId: id,
    ProcessingTimeInMilliseconds: String(60 + (Number.parseInt(id.slice(0, 4), 16) % 240)),
    Resource: "Microsoft.aadiam",
    ResourceDisplayName: app.resource,
    ResourceGroup: "Microsoft.aadiam",
    ResourceId: aadResourceId(tid),
    ResourceIdentity: app.resourceId,
    ResourceProvider: "Microsoft.aadiam",
    ResourceServicePrincipalId: sharedGuid(seed, `sp:${app.resourceId}`),
    ResourceTenantId: tid,
    ResultSignature: "None",
    RiskDetail: "none",
    RiskEventTypes: highRisk ? '["unfamiliarFeatures"]' : "[]",
    RiskEventTypes_V2: highRisk ? '["unfamiliarFeatures","passwordSpray"]' : "[]",
    RiskLevel: "",
    RiskLevelAggregated: f.risk,
    RiskState: highRisk ? "atRisk" : "none",
    ServicePrincipalId: "",
    ServicePrincipalName: "",
    SessionLifetimePolicies: "[]",
    SignInIdentifier: "",
    SignInIdentifierType: "",
    SourceSystem: "Azure AD",
    Status: statusOf(f.resultType),
    TokenIssuerName: "",
    TokenIssuerType: "AzureAD",
    Type: "SigninLogs",
    UniqueTokenIdentifier: Buffer.from(id.replace(/-/g, ""), "hex").toString("base64url").slice(0, 22),
    UserId: userObjectId(seed, f.upn),
    UserType: "Member",
  };
}

/** A directory operation: how Entra ID names, files and describes it. */
export interface AuditOperation {
  name: string;
  category: string;
  service: string;
  aadOperationType: "Add" | "Update" | "Delete" | "Assign" | "Unassign" | "Other";
  target: "User" | "Group" | "ServicePrincipal" | "Role";
}

/** The directory operations the seed logs (real Entra audit activity names and categories). */
export const AUDIT_OPERATIONS: AuditOperation[] = [
  {
    name: "Add member to group",
    category: "GroupManagement",
    service: "Core Directory",
    aadOperationType: "Assign",
    target: "Group",
  },
  {
    name: "Update user",
    category: "UserManagement",
    service: "Core Directory",
    aadOperationType: "Update",
    target: "User",
  },
  {
    name: "Reset password",
    category: "UserManagement",
    service: "Self-service Password Management",
    aadOperationType: "Update",
    target: "User",
  },
  {
    name: "Add service principal credentials",
    category: "ApplicationManagement",
    service: "Core Directory",
    aadOperationType: "Update",
    target: "ServicePrincipal",
  },
  {
    name: "Consent to application",
    category: "ApplicationManagement",
    service: "Core Directory",
    aadOperationType: "Assign",
    target: "ServicePrincipal",
  },
  {
    name: "Add member to role",
    category: "RoleManagement",
    service: "Core Directory",
    aadOperationType: "Assign",
    target: "Role",
  },
  {
    name: "User registered security info",
    category: "UserManagement",
    service: "Authentication Methods",
    aadOperationType: "Add",
    target: "User",
  },
];

const GROUPS = ["Finance", "Sales Team", "Contoso VPN Users", "SharePoint Site Owners"];
const APPS_SP = ["Contoso Expense Reporting", "Payroll Sync Connector", "Graph Explorer"];
const ROLES = ["Helpdesk Administrator", "User Administrator", "Security Reader"];

/** What the seed decided about one directory operation. */
export interface AuditFacts {
  seed: number;
  time: number;
  op: AuditOperation;
  ok: boolean;
  actorUpn: string;
  actorIp: string;
  targetUser: string;
  /** 0..1, picks the group/app/role the operation touches. */
  which: number;
  key: string;
}

const q = (s: string) => JSON.stringify(s);

function targetResources(f: AuditFacts): unknown[] {
  const { seed, op } = f;
  const user = (props: unknown[]) => ({
    id: userObjectId(seed, f.targetUser),
    displayName: null,
    type: "User",
    userPrincipalName: f.targetUser,
    modifiedProperties: props,
    administrativeUnits: [],
  });
  const pickOf = <T>(xs: T[]) => xs[Math.floor(f.which * xs.length)]!;
  switch (op.target) {
    case "Group": {
      const g = pickOf(GROUPS);
      const gid = stableGuid(`${seed}:group:${g}`);
      return [
        user([
          { displayName: "Group.ObjectID", oldValue: null, newValue: q(gid) },
          { displayName: "Group.DisplayName", oldValue: null, newValue: q(g) },
        ]),
        {
          id: gid,
          displayName: g,
          type: "Group",
          modifiedProperties: [],
          administrativeUnits: [],
          groupType: "unifiedGroups",
        },
      ];
    }
    case "Role": {
      const r = pickOf(ROLES);
      return [
        user([
          { displayName: "Role.DisplayName", oldValue: null, newValue: q(r) },
          { displayName: "Role.TemplateId", oldValue: null, newValue: q(stableGuid(`role:${r}`)) },
        ]),
        {
          id: stableGuid(`${seed}:role:${r}`),
          displayName: r,
          type: "Role",
          modifiedProperties: [],
          administrativeUnits: [],
        },
      ];
    }
    case "ServicePrincipal": {
      const a = pickOf(APPS_SP);
      const props =
        op.name === "Consent to application"
          ? [
              { displayName: "ConsentContext.IsAdminConsent", oldValue: null, newValue: q("False") },
              { displayName: "ConsentContext.OnBehalfOfAll", oldValue: null, newValue: q("False") },
              {
                displayName: "ConsentAction.Permissions",
                oldValue: null,
                newValue: q("Scope: Mail.Read offline_access User.Read"),
              },
            ]
          : [
              {
                displayName: "KeyDescription",
                oldValue: "[]",
                newValue: q(
                  `[KeyIdentifier=${stableGuid(`${seed}:key:${f.key}`)}, KeyType=Password, KeyUsage=Verify, DisplayName=automation]`,
                ),
              },
              { displayName: "Included Updated Properties", oldValue: null, newValue: q("KeyDescription") },
            ];
      return [
        {
          id: stableGuid(`${seed}:sp:${a}`),
          displayName: a,
          type: "ServicePrincipal",
          modifiedProperties: props,
          administrativeUnits: [],
        },
      ];
    }
    default: {
      const props =
        op.name === "Update user"
          ? [
              { displayName: "Department", oldValue: '["Sales"]', newValue: '["Finance"]' },
              { displayName: "Included Updated Properties", oldValue: null, newValue: q("Department") },
            ]
          : [];
      return [{ ...user(props), displayName: f.targetUser.split("@")[0]!.replace(".", " ") }];
    }
  }
}

/** Every AuditLogs column beyond the ones the seed decides, plus the dynamic columns' real shapes, by name. */
export function auditDetails(f: AuditFacts): Record<string, KqlValue> {
  const { seed, op } = f;
  const tid = aadTenantId(seed);
  const additional: { key: string; value: string }[] =
    op.name === "User registered security info"
      ? [
          { key: "Method", value: "Authenticator App" },
          { key: "UserAgent", value: BROWSER_UA },
        ]
      : [{ key: "User-Agent", value: BROWSER_UA }];
  if (op.target === "ServicePrincipal") additional.push({ key: "AppId", value: stableGuid(`${seed}:appid:${f.key}`) });
  return {
    OperationName: op.name,
    Category: op.category,
    Result: f.ok ? "success" : "failure",
    LoggedByService: op.service,
    InitiatedBy: {
      user: {
        id: userObjectId(seed, f.actorUpn),
        displayName: null,
        userPrincipalName: f.actorUpn,
        ipAddress: f.actorIp,
        roles: [],
      },
    },
    TargetResources: targetResources(f),
    TenantId: workspaceTenantId(seed),
    AADOperationType: op.aadOperationType,
    AADTenantId: tid,
    ActivityDateTime: f.time,
    ActivityDisplayName: op.name,
    AdditionalDetails: additional,
    CorrelationId: seedGuid(seed, `audit-corr-${f.key}`),
    DurationMs: 0,
    Id: `Directory_${seedGuid(seed, `audit-${f.key}`).slice(0, 18).replace(/-/g, "").toUpperCase()}`,
    Identity: f.actorUpn.split("@")[0]!.replace(".", " "),
    Level: "Informational",
    Location: "EU",
    OperationVersion: "1.0",
    Resource: "Microsoft.aadiam",
    ResourceGroup: "Microsoft.aadiam",
    ResourceId: `/tenants/${tid}/providers/Microsoft.aadiam`,
    ResourceProvider: "Microsoft.aadiam",
    ResultDescription: "",
    ResultReason: f.ok ? "" : "Insufficient privileges to complete the operation.",
    ResultSignature: "None",
    ResultType: "",
    SourceSystem: "Azure AD",
    Type: "AuditLogs",
  };
}
