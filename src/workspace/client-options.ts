import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { OperationalInsightsManagementClient } from "@azure/arm-operationalinsights";
import { SecurityInsights } from "@azure/arm-securityinsight";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { LogsIngestionClient } from "@azure/monitor-ingestion";
import { LogsQueryClient } from "@azure/monitor-query-logs";
import type { WorkspaceHandle } from "./index.js";

/** A TokenCredential that hands the SDK pipelines the local workspace's bearer secret. */
export function localCredential(secret: string): TokenCredential {
  return {
    async getToken(): Promise<AccessToken> {
      return { token: secret, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

/** Pipeline options that point the Azure SDK clients at the local workspace and trust its certificate. */
export function localClientOptions(handle: WorkspaceHandle) {
  const tlsOptions = { ca: handle.caPem };
  const scope = `${handle.url}/.default`;
  return {
    credential: localCredential(handle.secret),
    securityInsights: { endpoint: handle.url, credentialScopes: [scope], tlsOptions },
    // The same ARM endpoint and scope: saved searches live under Microsoft.OperationalInsights on the same host.
    operationalInsights: { endpoint: handle.url, credentialScopes: [scope], tlsOptions },
    // Microsoft.Authorization/permissions, on the same host: the identity's permissions (arm-authorization.ts).
    authorization: { endpoint: handle.url, credentialScopes: [scope], tlsOptions },
    logsQuery: { endpoint: `${handle.url}/v1`, credentials: { scopes: [scope] }, tlsOptions },
    logsIngestion: { tlsOptions, audience: scope },
  };
}

/** The SDK clients, built exactly as the backend builds them for Azure, but aimed at the local workspace. */
export function createLocalClients(handle: WorkspaceHandle) {
  const o = localClientOptions(handle);
  return {
    securityInsights: new SecurityInsights(o.credential, handle.ids.subscriptionId, o.securityInsights),
    operationalInsights: new OperationalInsightsManagementClient(
      o.credential,
      handle.ids.subscriptionId,
      o.operationalInsights,
    ),
    authorization: new AuthorizationManagementClient(o.credential, handle.ids.subscriptionId, o.authorization),
    logsQuery: new LogsQueryClient(o.credential, o.logsQuery),
    logsIngestion: new LogsIngestionClient(handle.url, o.credential, o.logsIngestion),
  };
}
