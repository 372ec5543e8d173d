import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Receipt } from "../../src/receipts/receipt.js";
import { openStateDb } from "../../src/state/db.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import type { TestHome } from "./home.js";

export function receiptsOf(h: TestHome): Receipt[] {
  const db = openStateDb(h.paths.stateDb);
  try {
    return db
      .prepare<[], { body: string }>("SELECT body FROM receipts ORDER BY seq")
      .all()
      .map((r) => JSON.parse(r.body) as Receipt);
  } finally {
    db.close();
  }
}

export function eventsOf(h: TestHome): AgentSecurityEvent[] {
  try {
    return readFileSync(join(h.paths.telemetry, "events.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AgentSecurityEvent);
  } catch {
    return [];
  }
}

export function textOf(r: unknown): string {
  return (((r as { content?: { text?: string }[] }).content ?? []) as { text?: string }[])
    .map((c) => c.text ?? "")
    .join("\n");
}
