import { join } from "node:path";
import type { HomePaths } from "../governance/home.js";
import type { WorkspaceEntry } from "../registry/workspaces.js";
import type { SentinelBackend } from "./backend.js";

/**
 * Opens the one backend. "local" starts the embedded workspace in-process on an ephemeral loopback port and points
 * the same Azure SDK clients at it; "azure" uses the real endpoints.
 */
export async function openBackend(paths: HomePaths, kind: "local" | "azure"): Promise<SentinelBackend> {
  return kind === "azure" ? (await import("./azure.js")).openAzureBackend() : openLocalBackend(paths.workspace);
}

/** The backend of one registry workspace: its embedded directory (local), or its Azure ids and credential. */
export async function openBackendFor(paths: HomePaths, entry: WorkspaceEntry): Promise<SentinelBackend> {
  // Loaded on first use: @azure/identity alone takes most of a second, and the local workspace is not needed with Azure.
  if (entry.backend === "azure") return (await import("./azure.js")).openAzureBackend(entry);
  return openLocalBackend(join(paths.root, entry.local_dir ?? "workspace"));
}

async function openLocalBackend(dir: string): Promise<SentinelBackend> {
  const [{ createLocalClients, startWorkspace }, { SdkBackend }] = await Promise.all([
    import("../workspace/index.js"),
    import("./sdk-backend.js"),
  ]);
  const handle = await startWorkspace(dir, { port: 0 });
  const clients = createLocalClients(handle);
  const backend = new SdkBackend(
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
  // The workers are in this process: what they are doing is what a user asking "is my query still running?" wants.
  return Object.assign(backend, {
    queryWorkers: () => {
      const st = handle.queryPool.stats();
      return { running: st.busy + st.stopping, queued: st.queued, terminated: st.terminated };
    },
  });
}
