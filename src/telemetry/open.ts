import { join } from "node:path";
import type { HomePaths } from "../governance/home.js";
import type { SentinelBackend } from "../sentinel/backend.js";
import type { WorkPolicyContract } from "../types/wpc.js";
import { FanoutSink, IngestionSink } from "./ingestion-sink.js";
import { JsonlSink } from "./jsonl-sink.js";
import type { AgentSecurityEvent, TelemetrySink } from "./sink.js";

/**
 * The telemetry sinks a policy asks for: always the local JSONL file; with telemetry.sink "local" or "logs-ingestion"
 * also Log Analytics (the embedded workspace's or Azure's Logs Ingestion endpoint), batched with spill-to-disk. The
 * server and the commands that publish events themselves (approval decisions) use the same sinks.
 */
export function openTelemetry(
  paths: HomePaths,
  wpc: WorkPolicyContract | undefined,
  backend: () => Promise<SentinelBackend>,
  /** Sends a batch to Log Analytics; default: the backend's Logs Ingestion endpoint (see ingestByTenant). */
  ingest?: (events: AgentSecurityEvent[]) => Promise<void>,
): TelemetrySink {
  const jsonl = new JsonlSink({ dir: paths.telemetry });
  const sink = wpc?.telemetry?.sink;
  if (sink !== "local" && sink !== "logs-ingestion") return jsonl;
  return new FanoutSink([
    jsonl,
    new IngestionSink({
      upload:
        ingest ??
        (async (events) => {
          const b = await backend();
          if (!b.ingestEvents) throw new Error("backend has no Logs Ingestion endpoint");
          await b.ingestEvents(events as unknown as Record<string, unknown>[]);
        }),
      spillDir: join(paths.telemetry, "spill"),
      failClosed: wpc?.telemetry?.fail_closed === true,
    }),
  ]);
}

/**
 * Uploads each tenant's events to that tenant's own workspace (the first registry entry of the tenant that can take
 * them: an embedded workspace, or an Azure entry with its ingestion endpoint); events of other tenants (none, "local",
 * a tenant without an endpoint) go to the default workspace's. A batch is uploaded tenant by tenant; a failure spills
 * the whole batch (at-least-once: events carry EventId to de-duplicate on).
 */
export function ingestByTenant(
  entries: { name: string; tenant: string; backend: "local" | "azure"; ingestion?: unknown }[],
  backendFor: (workspace?: string) => Promise<SentinelBackend>,
): (events: AgentSecurityEvent[]) => Promise<void> {
  const target = (tenant: string) =>
    entries.find((e) => e.tenant === tenant && (e.backend === "local" || e.ingestion !== undefined))?.name;
  return async (events) => {
    const groups = new Map<string | undefined, AgentSecurityEvent[]>();
    for (const e of events) {
      const t = target(e.TenantId);
      groups.set(t, [...(groups.get(t) ?? []), e]);
    }
    for (const [workspace, list] of groups) {
      const b = await backendFor(workspace);
      if (!b.ingestEvents) throw new Error(`workspace ${workspace ?? "(default)"} has no Logs Ingestion endpoint`);
      await b.ingestEvents(list as unknown as Record<string, unknown>[]);
    }
  };
}
