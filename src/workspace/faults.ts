/** Fault modes for tests, deterministic by request count. */
export interface FaultConfig {
  /** Answer the next `count` requests with 429 and Retry-After. */
  status429?: { count: number; retryAfterSeconds: number };
  /** Answer the next `count` requests with 500. */
  status500?: { count: number };
  /** Delay every response. */
  latencyMs?: number;
  /** Destroy the next `count` connections without answering. */
  resetConnection?: { count: number };
}

export type FaultAction = { kind: "none" } | { kind: "429"; retryAfter: number } | { kind: "500" } | { kind: "reset" };

export class Faults {
  private cfg: FaultConfig;
  constructor(cfg: FaultConfig = {}) {
    this.cfg = structuredClone(cfg);
  }
  set(cfg: FaultConfig): void {
    this.cfg = structuredClone(cfg);
  }
  get latencyMs(): number {
    return this.cfg.latencyMs ?? 0;
  }
  /** The fault for the next request (consumes one from the counters). */
  next(): FaultAction {
    const c = this.cfg;
    if (c.resetConnection && c.resetConnection.count > 0) {
      c.resetConnection.count--;
      return { kind: "reset" };
    }
    if (c.status429 && c.status429.count > 0) {
      c.status429.count--;
      return { kind: "429", retryAfter: c.status429.retryAfterSeconds };
    }
    if (c.status500 && c.status500.count > 0) {
      c.status500.count--;
      return { kind: "500" };
    }
    return { kind: "none" };
  }
}

export function faultsFromEnv(env: NodeJS.ProcessEnv = process.env): FaultConfig {
  if (!env.GSMCP_WORKSPACE_FAULTS) return {};
  try {
    return JSON.parse(env.GSMCP_WORKSPACE_FAULTS) as FaultConfig;
  } catch {
    throw new Error(
      'GSMCP_WORKSPACE_FAULTS is not valid JSON (example: {"status429":{"count":1,"retryAfterSeconds":1}})',
    );
  }
}
