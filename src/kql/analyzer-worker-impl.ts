// The analyzer worker's side: holds Microsoft's Kusto language service (loaded once, ~0.5 s, ~200 MB) and answers
// one analysis per message. Runs off the server's event loop, so a query that takes the language service long to
// bind cannot stall other calls, and the client can terminate it at a deadline.
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { analyzeKqlSync, type KqlAnalysis, type KqlAnalysisOptions, type KqlSchema } from "./analyzer.js";

export interface AnalysisRequest {
  id: number;
  query: string;
  options: KqlAnalysisOptions;
}

export type AnalysisReply =
  | { id: number; ok: true; analysis: KqlAnalysis }
  | { id: number; ok: false; message: string };

if (!isMainThread && parentPort && (workerData as { kind?: string } | undefined)?.kind === "gsmcp-kql-analyzer") {
  const port = parentPort;
  const { schema } = workerData as { schema: KqlSchema };
  // stdout belongs to the MCP stdio transport: anything the language service prints goes to stderr.
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  // Load the language service before the first request, and say so: the client's deadline for an analysis starts
  // when this worker is ready (requests sent meanwhile wait in the port's queue).
  analyzeKqlSync("print 1", schema, {});
  port.postMessage({ ready: true });
  port.on("message", (req: AnalysisRequest) => {
    try {
      port.postMessage({ id: req.id, ok: true, analysis: analyzeKqlSync(req.query, schema, req.options) });
    } catch (e) {
      port.postMessage({ id: req.id, ok: false, message: (e as Error).message });
    }
  });
}
