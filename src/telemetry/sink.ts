import type { AgentSecurityEvent } from "../types/agent-security-event.js";

export type { AgentSecurityEvent };

/** Where AgentSecurityEvents go. `emit` must not lose an event it accepted; it throws when it cannot accept one. */
export interface TelemetrySink {
  emit(event: AgentSecurityEvent): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}
