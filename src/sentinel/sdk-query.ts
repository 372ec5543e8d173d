import { AsyncLocalStorage } from "node:async_hooks";
import type { LogsQueryClient } from "@azure/monitor-query-logs";
import { DEFAULT_MAX_QUERY_SECONDS } from "../governance/decide.js";
import type { QueryOptions, QueryReads, QueryTable } from "./backend.js";
import { BackendError } from "./errors.js";
import { backendError } from "./sdk-errors.js";

/**
 * Runs KQL through the Log Analytics query API with a hard wall-clock bound: `serverTimeoutSeconds` goes out as
 * the server timeout (Prefer: wait=N) and the call is abandoned client-side QUERY_GRACE_MS later (or when
 * `abortSignal` fires). Asks for statistics: the embedded workspace reports there what the engine read.
 */
export async function runLogsQuery(
  client: LogsQueryClient,
  workspaceId: string,
  query: string,
  timespan: string,
  opts: QueryOptions = {},
): Promise<QueryTable> {
  const seconds = opts.serverTimeoutSeconds ?? DEFAULT_MAX_QUERY_SECONDS;
  const deadline = AbortSignal.timeout(seconds * 1000 + QUERY_GRACE_MS);
  const signal = opts.abortSignal ? AbortSignal.any([deadline, opts.abortSignal]) : deadline;
  installQueryPolicies(client.pipeline);
  let res: Awaited<ReturnType<typeof client.queryWorkspace>>;
  try {
    res = await untilAborted(
      signal,
      queryCall.run(signal, () =>
        client.queryWorkspace(
          workspaceId,
          query,
          { duration: timespan },
          { serverTimeoutInSeconds: seconds, includeQueryStatistics: true, abortSignal: signal },
        ),
      ),
    );
  } catch (e) {
    throw queryError(e, seconds, deadline, opts.abortSignal);
  }
  if (res.status !== "Success") {
    const err = (res as { partialError?: { message?: string } }).partialError;
    throw new BackendError("failed", `query returned partial results: ${err?.message ?? "unknown error"}`);
  }
  const table = res.tables[0];
  const reads = readsFrom(res.statistics);
  if (!table) return { columns: [], rows: [], ...(reads ? { reads } : {}) };
  return {
    columns: table.columnDescriptors.map((c) => ({ name: c.name ?? "", type: c.type ?? "string" })),
    rows: table.rows.map((r) => r.map((v) => (v instanceof Date ? v.toISOString() : v))),
    ...(reads ? { reads } : {}),
  };
}

/** How long past the server timeout the client waits for an answer (network, result transfer) before abandoning. */
export const QUERY_GRACE_MS = 2_000;
const QUERY_FIX =
  "narrow the timespan, filter early (where before join, summarize or extend), avoid cross joins and per-row " +
  "regex/string work over large tables, or raise the policy's max_query_seconds if the query is meant to be slow";

/** The abort signal of the queryLogs call in progress, for the pipeline policy below (the SDK drops abortSignal). */
const queryCall = new AsyncLocalStorage<AbortSignal>();
type QueryPipeline = LogsQueryClient["pipeline"];
const withQueryPolicies = new WeakSet<QueryPipeline>();

/** The query API answered 504: the query passed its server timeout. Not a RestError, so the SDK does not retry it. */
class QueryServerTimeout extends Error {
  constructor(readonly serverMessage: string) {
    super(serverMessage);
  }
}

/**
 * LogsQueryClient.queryWorkspace passes only `requestOptions` and the Prefer header down its pipeline: its
 * `abortSignal` option never reaches the request. Two policies, active only inside queryLogs, make the bound hold:
 * one puts the call's signal on the request (covering retries and their back-off), one turns a 504 into an error the
 * retry policy does not retry (the same query would time out again, and each retry would hold a server worker).
 */
function installQueryPolicies(pipeline: QueryPipeline): void {
  if (withQueryPolicies.has(pipeline)) return;
  withQueryPolicies.add(pipeline);
  pipeline.addPolicy({
    name: "gsmcpQueryAbortSignal",
    sendRequest(request, next) {
      const signal = queryCall.getStore();
      if (signal)
        request.abortSignal = request.abortSignal
          ? AbortSignal.any([request.abortSignal as AbortSignal, signal])
          : signal;
      return next(request);
    },
  });
  pipeline.addPolicy(
    {
      name: "gsmcpQueryTimeoutNoRetry",
      async sendRequest(request, next) {
        const res = await next(request);
        if (res.status !== 504 || !queryCall.getStore()) return res;
        let message = res.bodyAsText ?? "";
        try {
          message = (JSON.parse(message) as { error?: { message?: string } }).error?.message ?? message;
        } catch {
          // not JSON: keep the text
        }
        throw new QueryServerTimeout(message || "gateway timeout");
      },
    },
    { afterPhase: "Retry" },
  );
}

/** Settles with `p`, or rejects as soon as `signal` fires (whatever the SDK is still doing). */
function untilAborted<T>(signal: AbortSignal, p: Promise<T>): Promise<T> {
  p.catch(() => {}); // an abandoned call's late failure is not unhandled
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

function queryError(e: unknown, seconds: number, deadline: AbortSignal, caller: AbortSignal | undefined): BackendError {
  if (e instanceof QueryServerTimeout)
    return new BackendError("timeout", `Sentinel query timed out (HTTP 504): ${e.serverMessage}`, {
      status: 504,
      fix: QUERY_FIX,
      details: { reason: "timeout", timeoutSeconds: seconds },
      cause: e,
    });
  if (caller?.aborted && !deadline.aborted)
    return new BackendError("cancelled", "Sentinel query cancelled by the caller", {
      details: { reason: "cancelled" },
      cause: e,
    });
  if (deadline.aborted)
    return new BackendError(
      "timeout",
      `Sentinel query exceeded the server timeout of ${seconds}s (no answer within ${seconds + QUERY_GRACE_MS / 1000}s)`,
      { fix: QUERY_FIX, details: { reason: "timeout", timeoutSeconds: seconds }, cause: e },
    );
  if ((e as { code?: string }).code === "QueryResourceLimitError")
    return new BackendError("limit", `Sentinel query hit a resource limit: ${(e as Error).message}`, {
      status: 400,
      fix: QUERY_FIX,
      details: { reason: "limit" },
      cause: e,
    });
  return backendError(e);
}

const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === "string");

/** What the engine read, from the embedded workspace's statistics (query.tablesRead/storedFunctionsRead), if valid. */
function readsFrom(statistics: unknown): QueryReads | undefined {
  const q = (statistics as { query?: { tablesRead?: unknown; storedFunctionsRead?: unknown } } | undefined)?.query;
  if (!isStrings(q?.tablesRead) || !isStrings(q?.storedFunctionsRead)) return undefined;
  return { tables: [...q.tablesRead], storedFunctions: [...q.storedFunctionsRead] };
}
