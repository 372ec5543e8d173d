import { z } from "zod";

export const entityId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/,
    "entity id: letters, digits and dashes (the id sentinel_incidents_entities returns, usually a GUID)",
  )
  .describe("Entity id, as returned by sentinel_incidents_entities.");

/** Longest time range a timeline or insights call may cover. */
export const MAX_WINDOW_DAYS = 30;
const DAY = 86_400_000;

const isoTime = z.iso
  .datetime({ offset: true, message: "an ISO 8601 date-time with a zone, such as 2024-05-01T00:00:00Z" })
  .optional();

export const timeRangeFields = {
  startTime: isoTime.describe("Range start (ISO 8601). Default: 24 hours before endTime."),
  endTime: isoTime.describe("Range end (ISO 8601). Default: now."),
};

/** The range a call covers, with the defaults applied. */
export function resolveRange(a: { startTime?: string | undefined; endTime?: string | undefined }): {
  startTime: string;
  endTime: string;
} {
  const end = a.endTime ? Date.parse(a.endTime) : Date.now();
  const start = a.startTime ? Date.parse(a.startTime) : end - DAY;
  return { startTime: new Date(start).toISOString(), endTime: new Date(end).toISOString() };
}

/** Refinements for a time range: ordered, and at most MAX_WINDOW_DAYS long. */
export function checkRange(a: { startTime?: string | undefined; endTime?: string | undefined }, ctx: z.RefinementCtx) {
  // A malformed time is already reported on its own field; the range is only checked between valid times.
  if ([a.startTime, a.endTime].some((t) => t !== undefined && !Number.isFinite(Date.parse(t)))) return;
  const { startTime, endTime } = resolveRange(a);
  const span = Date.parse(endTime) - Date.parse(startTime);
  if (span <= 0) ctx.addIssue({ code: "custom", path: ["endTime"], message: "endTime must be after startTime" });
  else if (span > MAX_WINDOW_DAYS * DAY)
    ctx.addIssue({
      code: "custom",
      path: ["startTime"],
      message: `the range may cover at most ${MAX_WINDOW_DAYS} days; move startTime later or split the range`,
    });
}
