import { describe, expect, it } from "vitest";
import { manifestDrift, renderManifests } from "../../src/tools/manifest.js";
import { TOOLS } from "../../src/tools/registry.js";
import { toolNameFor } from "../../src/tools/types.js";

describe("tool manifests", () => {
  it("tools/ is in sync with the registry (run `npm run manifest` after changing a tool)", () => {
    expect(manifestDrift("tools")).toEqual([]);
  });

  it("every tool has a strict input schema, annotations, RBAC and a rollback posture", () => {
    for (const t of TOOLS) {
      const m = JSON.parse(renderManifests().get(`${toolNameFor(t.op)}.json`)!);
      expect(m.inputSchema.additionalProperties, t.op).toBe(false);
      expect(m.annotations.readOnlyHint, t.op).toBe(t.effects.readOnly);
      expect(m.azure_rbac.role, t.op).toBeTruthy();
      if (!t.effects.readOnly) {
        expect(m.approval_default, t.op).toBe("required");
        expect(m.rollback.posture, t.op).not.toBe("none");
      }
    }
  });

  it("tool names are derived from op ids, never typed twice", () => {
    expect(toolNameFor("incidents.comments.add")).toBe("sentinel_incidents_comments_add");
    expect(toolNameFor("governance.explain")).toBe("governance_explain");
    expect(new Set(TOOLS.map((t) => toolNameFor(t.op))).size).toBe(TOOLS.length);
  });
});
