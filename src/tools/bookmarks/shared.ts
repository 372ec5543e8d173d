import { z } from "zod";

export const bookmark = z.object({
  id: z.string(),
  displayName: z.string(),
  query: z.string(),
  notes: z.string().optional(),
  labels: z.array(z.string()),
  queryResult: z.string().optional(),
  eventTime: z.string().optional(),
  queryStartTime: z.string().optional(),
  queryEndTime: z.string().optional(),
  created: z.string().optional(),
  updated: z.string().optional(),
  incidentId: z.string().optional(),
  tactics: z.array(z.string()),
  techniques: z.array(z.string()),
  etag: z.string().optional(),
});
