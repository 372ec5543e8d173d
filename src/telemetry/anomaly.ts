import { CODES } from "../governance/codes.js";
import type { AgentSecurityEvent } from "../types/agent-security-event.js";

export interface AnomalyConfig {
  repeatedBlocks?: number;
  callsPerMinute?: number;
  windowMs: number;
}

export interface AnomalyFinding {
  kind: "repeated_blocks" | "call_rate";
  job: string;
  agent: string;
  detail: string;
}

/**
 * Watches this server's own ToolInvocation events per job: repeated BLOCKs within a window, or a call rate over a
 * limit. Pure apart from its sliding windows; time comes from the events, so tests need no clock.
 */
export class AnomalyDetector {
  private readonly blocks = new Map<string, number[]>();
  private readonly calls = new Map<string, number[]>();
  private readonly fired = new Set<string>();

  constructor(private readonly cfg: AnomalyConfig) {}

  observe(e: AgentSecurityEvent): AnomalyFinding[] {
    if (e.EventType !== "ToolInvocation" || !e.JobId || e.JobId === "-") return [];
    const t = Date.parse(e.TimeGenerated);
    const out: AnomalyFinding[] = [];
    const push = (map: Map<string, number[]>, window: number) => {
      const list = (map.get(e.JobId!) ?? []).filter((x) => x > t - window);
      list.push(t);
      map.set(e.JobId!, list);
      return list.length;
    };
    // A call the client cancelled before it was decided is recorded as BLOCK, but nothing refused it.
    if (this.cfg.repeatedBlocks && e.PolicyDecision === "BLOCK" && e.ErrorCode !== CODES.cancelled.errorCode) {
      const n = push(this.blocks, this.cfg.windowMs);
      if (n >= this.cfg.repeatedBlocks && this.once(`b:${e.JobId}:${Math.floor(t / this.cfg.windowMs)}`)) {
        out.push({
          kind: "repeated_blocks",
          job: e.JobId,
          agent: e.AgentId,
          detail: `${n} blocked calls within ${this.cfg.windowMs / 1000}s`,
        });
      }
    }
    if (this.cfg.callsPerMinute) {
      const n = push(this.calls, 60_000);
      if (n > this.cfg.callsPerMinute && this.once(`r:${e.JobId}:${Math.floor(t / 60_000)}`)) {
        out.push({
          kind: "call_rate",
          job: e.JobId,
          agent: e.AgentId,
          detail: `${n} calls within one minute (limit ${this.cfg.callsPerMinute})`,
        });
      }
    }
    return out;
  }

  private once(key: string): boolean {
    if (this.fired.has(key)) return false;
    this.fired.add(key);
    return true;
  }
}
