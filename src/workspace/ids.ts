/** The identifiers of the local workspace, fixed at init. */
export interface WorkspaceIds {
  subscriptionId: string;
  resourceGroup: string;
  workspaceName: string;
  workspaceId: string;
  dcrImmutableId: string;
  streamName: string;
}
