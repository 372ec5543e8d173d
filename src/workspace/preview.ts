import { existsSync } from "node:fs";
import { join } from "node:path";
import { ArmError } from "./arm-core.js";
import { QueryPool } from "./query-pool.js";
import type { SlideRequest } from "./query-worker-impl.js";

// A rule replay (src/kql/slide.ts) in the embedded workspace: one request to the query worker pool, so the replay
// runs off the main thread over the workers' copy of the tables and its time limit is the pool's hard one (the worker
// is terminated when it passes). The slide also checks a deadline between runs, a little before the hard limit, so a
// replay made of many cheap runs ends without costing a worker.

/** The slide as the worker answers it: times in epoch ms, the sample's values serialised like query rows. */
export interface WorkspaceSlide {
  runs: number;
  fired: number;
  firings: { runTime: number; count: number }[];
  sample?: { runTime: number; columns: { name: string; type: string }[]; rows: unknown[][] };
  /** What the engine read over all runs, as a query reports it (statistics tablesRead / storedFunctionsRead). */
  reads: { tables: string[]; storedFunctions: string[] };
  /** Seconds in the worker (tables loaded included). */
  executionTime: number;
}

export interface WorkspacePreviewOptions {
  /** Hard limit (seconds), queueing included. */
  timeoutSeconds: number;
  /** A running workspace's pool (WorkspaceHandle.queryPool); without one, a one-worker pool is opened and closed. */
  pool?: QueryPool;
  signal?: AbortSignal;
}

/** Share of the hard limit after which the slide stops itself between runs. */
const SOFT_DEADLINE = 0.95;

/**
 * Replays `query` over the workspace in `dir` (a directory made by initWorkspace). Rejects with ArmError as a query
 * does: 504 past the time limit, 400 for a bad query or a resource limit.
 */
export async function previewInWorkspace(
  dir: string,
  query: string,
  slide: Omit<SlideRequest, "deadline">,
  opts: WorkspacePreviewOptions,
): Promise<WorkspaceSlide> {
  const db = join(dir, "workspace.db");
  if (!opts.pool && !existsSync(db)) throw new ArmError(404, "WorkspaceNotFound", `no local workspace in ${dir}`);
  const pool = opts.pool ?? new QueryPool(db, { workers: 1, maxQueue: 0 });
  try {
    const deadline = Date.now() + opts.timeoutSeconds * 1000 * SOFT_DEADLINE;
    const answer = await pool.run(
      { query, now: slide.end, statistics: false, slide: { ...slide, deadline } },
      opts.timeoutSeconds,
      opts.signal,
    );
    return JSON.parse(answer.body) as WorkspaceSlide;
  } finally {
    if (!opts.pool) await pool.close();
  }
}
