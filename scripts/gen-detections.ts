// Generates examples/detections/arm/<rule>.json (deployable ARM templates) from the analytic-rule YAML files.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DetectionRule, loadDetections } from "../src/telemetry/detections.js";

const DIR = "examples/detections";
const OPS: Record<DetectionRule["triggerOperator"], string> = {
  gt: "GreaterThan",
  lt: "LessThan",
  eq: "Equal",
  ne: "NotEqual",
};

/** "5m" → "PT5M", "1d" → "P1D". */
function iso(d: string): string {
  const m = /^(\d+)([mhd])$/.exec(d)!;
  return m[2] === "d" ? `P${m[1]}D` : `PT${m[1]}${m[2]!.toUpperCase()}`;
}

/** The rule's incident settings, durations in ISO 8601 (as the Azure-Sentinel YAML writes lookbackDuration). */
function incidentConfiguration(r: DetectionRule): Record<string, unknown> {
  const c = r.incidentConfiguration;
  if (!c)
    return {
      createIncident: true,
      groupingConfiguration: {
        enabled: true,
        matchingMethod: "AllEntities",
        lookbackDuration: "PT1H",
        reopenClosedIncident: false,
      },
    };
  const g = c.groupingConfiguration;
  return {
    createIncident: c.createIncident,
    ...(g
      ? {
          groupingConfiguration: {
            ...g,
            lookbackDuration: g.lookbackDuration.startsWith("P") ? g.lookbackDuration : iso(g.lookbackDuration),
          },
        }
      : {}),
  };
}

export function armTemplate(r: DetectionRule): Record<string, unknown> {
  return {
    $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    contentVersion: "1.0.0.0",
    parameters: {
      workspace: { type: "string", metadata: { description: "Log Analytics workspace name with Microsoft Sentinel" } },
    },
    resources: [
      {
        type: "Microsoft.OperationalInsights/workspaces/providers/alertRules",
        name: `[concat(parameters('workspace'), '/Microsoft.SecurityInsights/', '${r.id}')]`,
        apiVersion: "2023-02-01",
        kind: "Scheduled",
        properties: {
          displayName: r.name,
          description: r.description.trim(),
          severity: r.severity,
          enabled: true,
          query: r.query,
          queryFrequency: iso(r.queryFrequency),
          queryPeriod: iso(r.queryPeriod),
          triggerOperator: OPS[r.triggerOperator],
          triggerThreshold: r.triggerThreshold,
          suppressionDuration: "PT1H",
          suppressionEnabled: false,
          tactics: r.tactics,
          techniques: r.relevantTechniques,
          entityMappings: r.entityMappings,
          ...(r.customDetails ? { customDetails: r.customDetails } : {}),
          ...(r.alertDetailsOverride ? { alertDetailsOverride: r.alertDetailsOverride } : {}),
          eventGroupingSettings: r.eventGroupingSettings ?? { aggregationKind: "SingleAlert" },
          incidentConfiguration: incidentConfiguration(r),
          templateVersion: r.version,
        },
      },
    ],
  };
}

export function renderArm(): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of loadDetections(DIR))
    out.set(join(DIR, "arm", r.file.replace(/\.yaml$/, ".json")), `${JSON.stringify(armTemplate(r), null, 2)}\n`);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync(join(DIR, "arm"), { recursive: true });
  for (const [f, c] of renderArm()) writeFileSync(f, c);
}
