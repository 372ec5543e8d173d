import { z } from "zod";
import { GovernanceError } from "../../governance/errors.js";
import { incidentId, workspace } from "../shared.js";
import { defineTool } from "../types.js";

export default defineTool({
  op: "incidents.close",
  title: "Close incident",
  description:
    "Close a Microsoft Sentinel incident with a classification and a closing comment. A write: requires the policy to allow it and, by default, a human approval bound to these exact arguments.",
  input: z.strictObject({
    incidentId,
    classification: z.enum(["TruePositive", "FalsePositive", "BenignPositive", "Undetermined"]),
    classificationReason: z
      .enum(["SuspiciousActivity", "SuspiciousButExpected", "IncorrectAlertLogic", "InaccurateData"])
      .optional(),
    comment: z.string().min(1).max(4000).describe("Why the incident is closed; stored as the classification comment."),
    workspace,
  }),
  output: z.object({ incidentId: z.string(), status: z.string(), classification: z.string() }),
  effects: { readOnly: false, destructive: true, idempotent: true, openWorld: true },
  rbac: { role: "Microsoft Sentinel Responder", action: "Microsoft.SecurityInsights/incidents/write" },
  approvalDefault: "required",
  rollback: {
    posture: "revert",
    description: "Reopen with the prior status, classification and owner captured before the write.",
  },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  async run() {
    // The write path (prior-state capture, two-phase receipts, rollback) lands with the tool-catalog work.
    throw new GovernanceError(
      "backend_error",
      "incidents.close has no write path in this build",
      "use the Sentinel portal",
    );
  },
});
