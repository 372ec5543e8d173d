import { z } from "zod";
import { ATTACK_TACTICS } from "../../sentinel/attack-tactics.js";
import type { SavedSearchSummary } from "../../sentinel/backend.js";

export const attackTactic = z.enum(ATTACK_TACTICS);

export const techniqueId = z
  .string()
  .regex(/^T\d{4}(\.\d{3})?$/, "MITRE ATT&CK technique id such as T1110 or T1110.003")
  .describe("MITRE ATT&CK technique id, e.g. T1110 or T1110.003.");

export const savedSearchId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, "saved search id: letters, digits, dashes and underscores")
  .describe("Saved search id (the ARM resource name), as sentinel_huntingQueries_list returns it.");

export const huntingQuery = z.object({
  id: z.string(),
  displayName: z.string(),
  description: z.string().optional(),
  query: z.string(),
  tactics: z.array(z.string()),
  techniques: z.array(z.string()),
});

/** Sentinel keeps a hunting query's description, tactics and techniques in saved-search tags (comma-separated). */
export function toHuntingQuery(s: SavedSearchSummary): z.infer<typeof huntingQuery> {
  const tag = (name: string) => s.tags.find((t) => t.name.toLowerCase() === name)?.value;
  const list = (name: string) =>
    (tag(name) ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
  const description = tag("description");
  return {
    id: s.id,
    displayName: s.displayName,
    ...(description ? { description } : {}),
    query: s.query,
    tactics: list("tactics"),
    techniques: list("techniques"),
  };
}
