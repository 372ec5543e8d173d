import { stableGuid } from "./seed-determinism.js";
import type { WorkspaceStore } from "./store.js";

// Data connectors of the seeded workspace: Azure AD, Defender for Endpoint, Threat Intelligence and Office 365.

const DAY = 86_400_000;

export function seedConnectors(store: WorkspaceStore, seed: number, now: number): number {
  const tenantId = stableGuid(`${seed}:tenant`);
  const connectors: [string, string, Record<string, unknown>][] = [
    ["AzureActiveDirectory", "aad", { tenantId, dataTypes: { alerts: { state: "Enabled" } } }],
    ["MicrosoftDefenderAdvancedThreatProtection", "mdatp", { tenantId, dataTypes: { alerts: { state: "Enabled" } } }],
    [
      "ThreatIntelligence",
      "ti",
      {
        tenantId,
        tipLookbackPeriod: new Date(now - 90 * DAY).toISOString(),
        dataTypes: { indicators: { state: "Enabled" } },
      },
    ],
    [
      "Office365",
      "office365",
      {
        tenantId,
        dataTypes: { exchange: { state: "Enabled" }, sharePoint: { state: "Enabled" }, teams: { state: "Disabled" } },
      },
    ],
  ];
  for (const [kind, label, properties] of connectors) {
    store.put(
      "dataConnectors",
      stableGuid(`${seed}:connector:${label}`),
      { kind, properties },
      `"${stableGuid(`${seed}:etag-connector:${label}`)}"`,
    );
  }
  return connectors.length;
}
