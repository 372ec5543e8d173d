import { z } from "zod";
import { type ToolDef, toolNameFor } from "./types.js";

/** A tool as tools/list and the manifest show it: JSON Schemas generated from the zod schemas, MCP annotations. */
export interface ListedTool {
  name: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown>;
  annotations: {
    title: string;
    readOnlyHint: boolean;
    destructiveHint: boolean;
    idempotentHint: boolean;
    openWorldHint: boolean;
  };
}

export function describeTool(t: ToolDef): ListedTool {
  return {
    name: toolNameFor(t.op),
    title: t.title,
    description: t.description,
    inputSchema: jsonSchemaOf(t.input, "input"),
    outputSchema: jsonSchemaOf(t.output, "output"),
    annotations: {
      title: t.title,
      readOnlyHint: t.effects.readOnly,
      destructiveHint: t.effects.destructive,
      idempotentHint: t.effects.idempotent,
      openWorldHint: t.effects.openWorld,
    },
  };
}

function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io }) as Record<string, unknown>;
  return rest;
}
