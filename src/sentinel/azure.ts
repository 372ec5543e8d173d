import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { OperationalInsightsManagementClient } from "@azure/arm-operationalinsights";
import { SecurityInsights } from "@azure/arm-securityinsight";
import { DefaultAzureCredential, ManagedIdentityCredential } from "@azure/identity";
import { LogsIngestionClient } from "@azure/monitor-ingestion";
import { LogsQueryClient } from "@azure/monitor-query-logs";
import { GovernanceError } from "../governance/errors.js";
import type { WorkspaceEntry } from "../registry/workspaces.js";
import type { WorkspaceIds } from "./backend.js";
import { SdkBackend } from "./sdk-backend.js";

/** Azure configuration from the environment; every missing variable is named. */
export function azureIdsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkspaceIds {
  const need = {
    AZURE_SUBSCRIPTION_ID: env.AZURE_SUBSCRIPTION_ID,
    AZURE_RESOURCE_GROUP: env.AZURE_RESOURCE_GROUP,
    SENTINEL_WORKSPACE_NAME: env.SENTINEL_WORKSPACE_NAME,
    SENTINEL_WORKSPACE_ID: env.SENTINEL_WORKSPACE_ID,
  };
  const missing = Object.entries(need)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length) {
    throw new GovernanceError(
      "backend_error",
      `GSMCP_BACKEND=azure needs ${missing.join(", ")}`,
      "set them (see docs/azure.md) or use GSMCP_BACKEND=local",
    );
  }
  return {
    subscriptionId: need.AZURE_SUBSCRIPTION_ID!,
    resourceGroup: need.AZURE_RESOURCE_GROUP!,
    workspaceName: need.SENTINEL_WORKSPACE_NAME!,
    workspaceId: need.SENTINEL_WORKSPACE_ID!,
  };
}

/**
 * The Azure backend: DefaultAzureCredential (managed identity, workload identity, CLI) and the public endpoints. With a
 * registry entry, its ids and credential choice (a user-assigned managed identity by client id); otherwise the
 * environment's ids.
 */
export function openAzureBackend(entry?: WorkspaceEntry): SdkBackend {
  const ids: WorkspaceIds = entry
    ? {
        subscriptionId: entry.subscription,
        resourceGroup: entry.resource_group,
        workspaceName: entry.workspace_name,
        workspaceId: entry.workspace_id,
      }
    : azureIdsFromEnv();
  const credential =
    entry?.credential === "managed-identity" && entry.client_id
      ? new ManagedIdentityCredential({ clientId: entry.client_id })
      : new DefaultAzureCredential();
  const dce = entry?.ingestion?.endpoint ?? process.env.GSMCP_DCE_ENDPOINT;
  const dcr = entry?.ingestion?.dcr_immutable_id ?? process.env.GSMCP_DCR_ID;
  return new SdkBackend(ids, {
    securityInsights: new SecurityInsights(credential, ids.subscriptionId),
    operationalInsights: new OperationalInsightsManagementClient(credential, ids.subscriptionId),
    authorization: new AuthorizationManagementClient(credential, ids.subscriptionId),
    logsQuery: new LogsQueryClient(credential),
    ...(dce && dcr
      ? {
          ingestion: {
            client: new LogsIngestionClient(dce, credential),
            dcrImmutableId: dcr,
            stream: entry?.ingestion?.stream ?? "Custom-AgentSecurityEvent_CL",
          },
        }
      : {}),
  });
}
