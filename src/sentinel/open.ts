import type { HomePaths } from "../governance/home.js";
import { createLocalClients, startWorkspace } from "../workspace/index.js";
import { openAzureBackend } from "./azure.js";
import type { SentinelBackend } from "./backend.js";
import { SdkBackend } from "./sdk-backend.js";

/**
 * Opens the one backend. "local" starts the embedded workspace in-process on an ephemeral loopback port and points
 * the same Azure SDK clients at it; "azure" uses the real endpoints.
 */
export async function openBackend(paths: HomePaths, kind: "local" | "azure"): Promise<SentinelBackend> {
  if (kind === "azure") return openAzureBackend();
  const handle = await startWorkspace(paths.workspace, { port: 0 });
  const clients = createLocalClients(handle);
  return new SdkBackend(
    {
      subscriptionId: handle.ids.subscriptionId,
      resourceGroup: handle.ids.resourceGroup,
      workspaceName: handle.ids.workspaceName,
      workspaceId: handle.ids.workspaceId,
    },
    {
      ...clients,
      ingestion: {
        client: clients.logsIngestion,
        dcrImmutableId: handle.ids.dcrImmutableId,
        stream: handle.ids.streamName,
      },
    },
    () => handle.close(),
  );
}
