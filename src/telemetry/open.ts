import { join } from "node:path";
import type { HomePaths } from "../governance/home.js";
import type { SentinelBackend } from "../sentinel/backend.js";
import type { WorkPolicyContract } from "../types/wpc.js";
import { FanoutSink, IngestionSink } from "./ingestion-sink.js";
import { JsonlSink } from "./jsonl-sink.js";
import type { TelemetrySink } from "./sink.js";

/**
 * The telemetry sinks a policy asks for: always the local JSONL file; with telemetry.sink "local" or "logs-ingestion"
 * also Log Analytics (the embedded workspace's or Azure's Logs Ingestion endpoint), batched with spill-to-disk. The
 * server and the commands that publish events themselves (approval decisions) use the same sinks.
 */
export function openTelemetry(
  paths: HomePaths,
  wpc: WorkPolicyContract | undefined,
  backend: () => Promise<SentinelBackend>,
): TelemetrySink {
  const jsonl = new JsonlSink({ dir: paths.telemetry });
  const sink = wpc?.telemetry?.sink;
  if (sink !== "local" && sink !== "logs-ingestion") return jsonl;
  return new FanoutSink([
    jsonl,
    new IngestionSink({
      upload: async (events) => {
        const b = await backend();
        if (!b.ingestEvents) throw new Error("backend has no Logs Ingestion endpoint");
        await b.ingestEvents(events as unknown as Record<string, unknown>[]);
      },
      spillDir: join(paths.telemetry, "spill"),
      failClosed: wpc?.telemetry?.fail_closed === true,
    }),
  ]);
}
