import type { HomePaths } from "../governance/home.js";
import type { SentinelBackend } from "./backend.js";

/**
 * Opens the one backend. "local" starts the embedded workspace in-process on an ephemeral loopback port and points
 * the same Azure SDK clients at it; "azure" uses the real endpoints.
 */
export async function openBackend(paths: HomePaths, kind: "local" | "azure"): Promise<SentinelBackend> {
  // Loaded on first use: @azure/identity alone takes most of a second, and the local workspace is not needed with Azure.
  if (kind === "azure") return (await import("./azure.js")).openAzureBackend();
  const [{ createLocalClients, startWorkspace }, { SdkBackend }] = await Promise.all([
    import("../workspace/index.js"),
    import("./sdk-backend.js"),
  ]);
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
