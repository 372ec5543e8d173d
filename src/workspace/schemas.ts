import type { KqlColumn, KqlType } from "../kql/types.js";

// Log tables of the local workspace with the real Microsoft Sentinel / Log Analytics column names and types, so that
// a query written against Azure runs here unchanged and the policy analyzer (src/sentinel/table-schemas.ts) knows
// every column Azure has.
//
// Sources (column names and types are facts, written down here in our own notation):
// - Azure Monitor Logs table reference (learn.microsoft.com/azure/azure-monitor/reference/tables/<table>; the
//   MicrosoftDocs/azure-reference-other repository, azure-monitor-ref/tables/includes/<table>-include.md):
//   SigninLogs, AuditLogs, SecurityAlert, SecurityIncident, OfficeActivity, DeviceProcessEvents.
// - The Azure-Sentinel repository's KQL validation schemas (.script/tests/KqlvalidationsTests/CustomTables/<table>.json):
//   SecurityIncident, DeviceProcessEvents, CommonSecurityLog (its Int/BigInt/Float types are int/long/real here).
// Left out: the hidden system columns every table has (_ResourceId, _SubscriptionId, _ItemId, _BilledSize,
// _IsBillable), which queries rarely name. TenantId (the workspace id) is a standard column of every table.
//
// Layout rules: TimeGenerated is always the first column (the seed sorts rows by it), and the columns the local
// workspace had before the full schemas came first keep their positions, so rows built positionally elsewhere (the
// incidents' SecurityAlert and SecurityIncident rows) stay aligned; seed-logs.ts fills the columns after them.

const c = (name: string, type: KqlType): KqlColumn => ({ name, type });

/** Columns from a compact spec: `Name` is a string column, `Name:type` any other type. */
function cols(spec: string): KqlColumn[] {
  return spec
    .trim()
    .split(/\s+/)
    .map((token) => {
      const [name, type] = token.split(":") as [string, KqlType | undefined];
      return { name, type: type ?? "string" };
    });
}

export const LOG_TABLES: Record<string, KqlColumn[]> = {
  SecurityIncident: cols(`
    TimeGenerated:datetime IncidentName IncidentNumber:int Title Description Severity Status Classification
    Owner:dynamic ProviderName AlertIds:dynamic Labels:dynamic FirstActivityTime:datetime LastActivityTime:datetime
    CreatedTime:datetime LastModifiedTime:datetime IncidentUrl
    TenantId ClassificationComment ClassificationReason ProviderIncidentId FirstModifiedTime:datetime
    ClosedTime:datetime RelatedAnalyticRuleIds:dynamic BookmarkIds:dynamic Comments:dynamic Tasks:dynamic
    AdditionalData:dynamic ModifiedBy SourceSystem Type`),
  SecurityAlert: cols(`
    TimeGenerated:datetime DisplayName AlertName AlertSeverity Description ProviderName VendorName ProductName
    SystemAlertId Status CompromisedEntity Tactics Techniques Entities StartTime:datetime EndTime:datetime
    TenantId AlertLink AlertType ConfidenceLevel ConfidenceScore:real ExtendedLinks ExtendedProperties
    IsIncident:bool ProcessingEndTime:datetime ProductComponentName RemediationSteps ResourceId SourceComputerId
    SubTechniques VendorOriginalId WorkspaceResourceGroup WorkspaceSubscriptionId SourceSystem Type`),
  SigninLogs: cols(`
    TimeGenerated:datetime UserPrincipalName UserDisplayName IPAddress Location AppDisplayName ResultType
    ResultDescription ClientAppUsed UserAgent ConditionalAccessStatus RiskLevelDuringSignIn
    TenantId AADTenantId AlternateSignInName AppId AppliedConditionalAccessPolicies AppliedEventListeners:dynamic
    AuthenticationContextClassReferences AuthenticationDetails AuthenticationMethodsUsed
    AuthenticationProcessingDetails AuthenticationProtocol AuthenticationRequirement AuthenticationRequirementPolicies
    AutonomousSystemNumber Category ConditionalAccessPolicies:dynamic CorrelationId CreatedDateTime:datetime
    CrossTenantAccessType DeviceDetail:dynamic DurationMs:long FlaggedForReview:bool HomeTenantId Id Identity
    IPAddressFromResourceProvider IsInteractive:bool IsRisky:bool Level LocationDetails:dynamic MfaDetail:dynamic
    NetworkLocationDetails OperationName OperationVersion OriginalRequestId ProcessingTimeInMilliseconds Resource
    ResourceDisplayName ResourceGroup ResourceId ResourceIdentity ResourceProvider ResourceServicePrincipalId
    ResourceTenantId ResultSignature RiskDetail RiskEventTypes RiskEventTypes_V2 RiskLevel RiskLevelAggregated
    RiskState ServicePrincipalId ServicePrincipalName SessionLifetimePolicies SignInIdentifier SignInIdentifierType
    SourceSystem Status:dynamic TokenIssuerName TokenIssuerType Type UniqueTokenIdentifier UserId UserType`),
  AuditLogs: cols(`
    TimeGenerated:datetime OperationName Category Result InitiatedBy:dynamic TargetResources:dynamic LoggedByService
    TenantId AADOperationType AADTenantId ActivityDateTime:datetime ActivityDisplayName AdditionalDetails:dynamic
    CorrelationId DurationMs:long Id Identity Level Location OperationVersion Resource ResourceGroup ResourceId
    ResourceProvider ResultDescription ResultReason ResultSignature ResultType SourceSystem Type`),
  DeviceProcessEvents: cols(`
    TimeGenerated:datetime DeviceName AccountName FileName FolderPath ProcessCommandLine InitiatingProcessFileName
    SHA256 ActionType
    TenantId Timestamp:datetime AccountDomain AccountObjectId AccountSid AccountUpn AdditionalFields:dynamic
    AppGuardContainerId DeviceId FileSize:long InitiatingProcessAccountDomain InitiatingProcessAccountName
    InitiatingProcessAccountObjectId InitiatingProcessAccountSid InitiatingProcessAccountUpn
    InitiatingProcessCommandLine InitiatingProcessCreationTime:datetime InitiatingProcessFileSize:long
    InitiatingProcessFolderPath InitiatingProcessId:long InitiatingProcessIntegrityLevel InitiatingProcessLogonId:long
    InitiatingProcessMD5 InitiatingProcessParentCreationTime:datetime InitiatingProcessParentFileName
    InitiatingProcessParentId:long InitiatingProcessSHA1 InitiatingProcessSHA256 InitiatingProcessSignatureStatus
    InitiatingProcessSignerType InitiatingProcessTokenElevation InitiatingProcessVersionInfoCompanyName
    InitiatingProcessVersionInfoFileDescription InitiatingProcessVersionInfoInternalFileName
    InitiatingProcessVersionInfoOriginalFileName InitiatingProcessVersionInfoProductName
    InitiatingProcessVersionInfoProductVersion LogonId:long MachineGroup MD5 ProcessCreationTime:datetime
    ProcessId:long ProcessIntegrityLevel ProcessTokenElevation ProcessVersionInfoCompanyName
    ProcessVersionInfoFileDescription ProcessVersionInfoInternalFileName ProcessVersionInfoOriginalFileName
    ProcessVersionInfoProductName ProcessVersionInfoProductVersion ReportId:long SHA1 SourceSystem Type`),
  OfficeActivity: cols(`
    TimeGenerated:datetime TenantId AADGroupId AADTarget Activity Actor ActorContextId ActorIpAddress AddOnGuid
    AddonName AddOnType AffectedItems AppDistributionMode AppId Application ApplicationId
    AzureActiveDirectory_EventType AzureADAppId ChannelGuid ChannelName ChannelType ChatName ChatThreadId Client
    Client_IPAddress ClientAppId ClientInfoString ClientIP ClientMachineName ClientProcessName ClientVersion
    CommunicationType CrossMailboxOperations:bool CustomEvent DataCenterSecurityEventType:int DestFolder
    DestinationFileExtension DestinationFileName DestinationRelativeUrl DestMailboxId
    DestMailboxOwnerMasterAccountSid DestMailboxOwnerSid DestMailboxOwnerUPN EffectiveOrganization
    ElevationApprovedTime:datetime ElevationApprover ElevationDuration:int ElevationRequestId ElevationRole
    ElevationTime:datetime Event_Data EventSource ExtendedProperties ExternalAccess ExtraProperties:dynamic Folder
    Folders GenericInfo InternalLogonType:int InterSystemsId IntraSystemId IsManagedDevice:bool Item ItemName
    ItemType LoginStatus:int Logon_Type LogonUserDisplayName LogonUserSid MachineDomainInfo MachineId MailboxGuid
    MailboxOwnerMasterAccountSid MailboxOwnerSid MailboxOwnerUPN Members:dynamic MessageId ModifiedObjectResolvedName
    ModifiedProperties Name NewValue OfficeId OfficeObjectId OfficeTenantId OfficeWorkload OldValue Operation
    OperationProperties:dynamic OperationScope OrganizationId OrganizationName OriginatingServer Parameters
    RecordType ResultReasonType ResultStatus SendAsUserMailboxGuid SendAsUserSmtp SendonBehalfOfUserMailboxGuid
    SendOnBehalfOfUserSmtp SharingType Site_ Site_Url Source_Name SourceFileExtension SourceFileName SourceRecordId
    SourceRelativeUrl SourceSystem SRPolicyId SRPolicyName SRRuleMatchDetails:dynamic Start_Time:datetime
    SupportTicketId TabType TargetContextId TargetUserId TargetUserOrGroupName TargetUserOrGroupType TeamGuid
    TeamName Type UserAgent UserDomain UserId UserKey UserSharedWith UserType`),
  CommonSecurityLog: cols(`
    TimeGenerated:datetime DeviceVendor DeviceProduct DeviceVersion DeviceEventClassID Activity LogSeverity
    OriginalLogSeverity AdditionalExtensions DeviceAction ApplicationProtocol EventCount:int DestinationDnsDomain
    DestinationServiceName DestinationTranslatedAddress DestinationTranslatedPort:int CommunicationDirection
    DeviceDnsDomain DeviceExternalID DeviceFacility DeviceInboundInterface DeviceNtDomain DeviceOutboundInterface
    DevicePayloadId ProcessName DeviceTranslatedAddress DestinationHostName DestinationMACAddress DestinationNTDomain
    DestinationProcessId:int DestinationUserPrivileges DestinationProcessName DestinationPort:int DestinationIP
    DeviceTimeZone DestinationUserID DestinationUserName DeviceAddress DeviceName DeviceMacAddress ProcessID:int
    EndTime:datetime ExternalID:int ExtID FileCreateTime FileHash FileID FileModificationTime FilePath FilePermission
    FileType FileName FileSize:int ReceivedBytes:long Message OldFileCreateTime OldFileHash OldFileID
    OldFileModificationTime OldFileName OldFilePath OldFilePermission OldFileSize:int OldFileType SentBytes:long
    EventOutcome Protocol Reason RequestURL RequestClientApplication RequestContext RequestCookies RequestMethod
    ReceiptTime SourceHostName SourceMACAddress SourceNTDomain SourceDnsDomain SourceServiceName
    SourceTranslatedAddress SourceTranslatedPort:int SourceProcessId:int SourceUserPrivileges SourceProcessName
    SourcePort:int SourceIP StartTime:datetime SourceUserID SourceUserName EventType:int DeviceEventCategory
    DeviceCustomIPv6Address1 DeviceCustomIPv6Address1Label DeviceCustomIPv6Address2 DeviceCustomIPv6Address2Label
    DeviceCustomIPv6Address3 DeviceCustomIPv6Address3Label DeviceCustomIPv6Address4 DeviceCustomIPv6Address4Label
    DeviceCustomFloatingPoint1:real DeviceCustomFloatingPoint1Label DeviceCustomFloatingPoint2:real
    DeviceCustomFloatingPoint2Label DeviceCustomFloatingPoint3:real DeviceCustomFloatingPoint3Label
    DeviceCustomFloatingPoint4:real DeviceCustomFloatingPoint4Label DeviceCustomNumber1:int
    FieldDeviceCustomNumber1:long DeviceCustomNumber1Label DeviceCustomNumber2:int FieldDeviceCustomNumber2:long
    DeviceCustomNumber2Label DeviceCustomNumber3:int FieldDeviceCustomNumber3:long DeviceCustomNumber3Label
    DeviceCustomString1 DeviceCustomString1Label DeviceCustomString2 DeviceCustomString2Label DeviceCustomString3
    DeviceCustomString3Label DeviceCustomString4 DeviceCustomString4Label DeviceCustomString5
    DeviceCustomString5Label DeviceCustomString6 DeviceCustomString6Label DeviceCustomDate1 DeviceCustomDate1Label
    DeviceCustomDate2 DeviceCustomDate2Label FlexDate1 FlexDate1Label FlexNumber1:int FlexNumber1Label
    FlexNumber2:int FlexNumber2Label FlexString1 FlexString1Label FlexString2 FlexString2Label RemoteIP RemotePort
    MaliciousIP ThreatSeverity:int IndicatorThreatType ThreatDescription ThreatConfidence ReportReferenceLink
    MaliciousIPLongitude:real MaliciousIPLatitude:real MaliciousIPCountry Computer SourceSystem
    SimplifiedDeviceAction CollectorHostName TenantId Type`),
  // Microsoft Sentinel's watchlist table (Azure Monitor table reference: Watchlist): one row per watchlist or item
  // change; _GetWatchlist() below reads the newest row of each item.
  Watchlist: cols(`
    TimeGenerated:datetime _DTItemId _DTItemStatus _DTItemType _DTTimestamp:datetime AzureTenantId CorrelationId
    CreatedBy:dynamic CreatedTimeUTC:datetime DefaultDuration LastUpdatedTimeUTC:datetime Notes Provider SearchKey
    Source Tags:dynamic TenantId TimeToLive:datetime UpdatedBy:dynamic WatchlistAlias WatchlistCategory WatchlistId
    WatchlistItem:dynamic WatchlistItemId WatchlistName SourceSystem Type`),
  // Ours (not a Microsoft table): the governance events this server writes; see detections/ and src/telemetry.
  AgentSecurityEvent_CL: [
    c("TimeGenerated", "datetime"),
    c("EventId", "string"),
    c("AgentId", "string"),
    c("TenantId", "string"),
    c("EventType", "string"),
    c("Action", "string"),
    c("PolicyDecision", "string"),
    c("ToolName", "string"),
    c("ToolParameters", "dynamic"),
    c("ToolResult", "string"),
    c("PromptHash", "string"),
    c("ResponseHash", "string"),
    c("ModelId", "string"),
    c("ErrorCode", "int"),
    c("Severity", "int"),
    c("SourceSystem", "string"),
    c("JobId", "string"),
    c("PolicyHash", "string"),
    c("ReceiptId", "string"),
    c("ReceiptHash", "string"),
    c("ApprovalId", "string"),
    c("Workspace", "string"),
    c("LatencyMs", "real"),
  ],
};

/** Saved functions of the workspace (functionAlias → body). */
/**
 * Saved functions of the workspace (functionAlias → body). A body written `(p:type, ...) { query }` is a function
 * with parameters (as Log Analytics saves `functionParameters`), called as `Name(args)`.
 *
 * _GetWatchlist is Microsoft Sentinel's: the current items of one watchlist (the newest Watchlist row per item, deleted
 * ones left out), with SearchKey, _DTItemId, LastUpdatedTimeUTC and the item as WatchlistItem. Sentinel also unpacks
 * the item's fields into columns (evaluate bag_unpack), which this engine does not run; our content reads the fields
 * as WatchlistItem.<Field>, which works on both.
 */
export const STORED_FUNCTIONS: Record<string, string> = {
  AgentSecurityEvent: "AgentSecurityEvent_CL",
  _GetWatchlist: `(watchlistAlias:string) {
Watchlist
| where _DTItemType == "watchlist-item" and WatchlistAlias == watchlistAlias
| summarize arg_max(_DTTimestamp, _DTItemStatus, LastUpdatedTimeUTC, SearchKey, WatchlistItem) by _DTItemId
| where _DTItemStatus != "Delete"
| project _DTItemId, LastUpdatedTimeUTC, SearchKey, WatchlistItem
}`,
};
