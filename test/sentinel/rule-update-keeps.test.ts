import type { ScheduledAlertRule } from "@azure/arm-securityinsight";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SdkBackend } from "../../src/sentinel/sdk-backend.js";
import { createLocalClients, startWorkspace } from "../../src/workspace/index.js";
import { makeHome, type TestHome } from "../helpers/home.js";

// PUT replaces a whole alert rule. An update through our tools sets only the fields an agent may propose; everything
// else a SOC configured on the rule (suppression, entity mappings, incident configuration, custom details) must
// survive it — and so must a rollback.
describe("analytics rule updates keep what they do not set (real SDK path)", () => {
  let h: TestHome;
  let handle: Awaited<ReturnType<typeof startWorkspace>>;
  let clients: ReturnType<typeof createLocalClients>;
  let backend: SdkBackend;
  const id = "5a1e0000-0000-4000-8000-000000000001";
  const rg = () => [handle.ids.resourceGroup, handle.ids.workspaceName] as const;

  beforeAll(async () => {
    h = await makeHome();
    handle = await startWorkspace(h.paths.workspace, { port: 0 });
    clients = createLocalClients(handle);
    backend = new SdkBackend(
      {
        subscriptionId: handle.ids.subscriptionId,
        resourceGroup: handle.ids.resourceGroup,
        workspaceName: handle.ids.workspaceName,
        workspaceId: handle.ids.workspaceId,
      },
      clients,
      async () => undefined,
    );
  }, 60_000);
  afterAll(async () => handle?.close());

  it("suppression, entity mappings and incident configuration survive an update and a revert", async () => {
    const configured: ScheduledAlertRule = {
      kind: "Scheduled",
      displayName: "SOC-tuned rule",
      enabled: true,
      severity: "Medium",
      query: "SigninLogs | where ResultType != '0'",
      queryFrequency: "PT1H",
      queryPeriod: "PT1H",
      triggerOperator: "GreaterThan",
      triggerThreshold: 5,
      suppressionDuration: "PT2H",
      suppressionEnabled: true,
      tactics: ["CredentialAccess"],
      entityMappings: [
        { entityType: "Account", fieldMappings: [{ identifier: "FullName", columnName: "UserPrincipalName" }] },
      ],
      incidentConfiguration: {
        createIncident: true,
        groupingConfiguration: {
          enabled: true,
          reopenClosedIncident: false,
          lookbackDuration: "PT5H",
          matchingMethod: "AllEntities",
        },
      },
    };
    await clients.securityInsights.alertRules.createOrUpdate(...rg(), id, configured);
    const before = await backend.getAnalyticsRule(id);
    await backend.putAnalyticsRule({ ...before, triggerThreshold: 42 }, before.etag);
    const after = (await clients.securityInsights.alertRules.get(...rg(), id)) as ScheduledAlertRule;
    expect(after.triggerThreshold).toBe(42);
    expect(after).toMatchObject({
      suppressionDuration: "PT2H",
      suppressionEnabled: true,
      entityMappings: configured.entityMappings,
      incidentConfiguration: { createIncident: true },
    });
    // A revert writes the captured summary back: the configuration is still there.
    await backend.putAnalyticsRule(before);
    const reverted = (await clients.securityInsights.alertRules.get(...rg(), id)) as ScheduledAlertRule;
    expect(reverted.triggerThreshold).toBe(5);
    expect(reverted.entityMappings).toEqual(configured.entityMappings);
    // A new rule still gets Sentinel's required suppression fields.
    const created = await backend.putAnalyticsRule({ ...before, id: "5a1e0000-0000-4000-8000-000000000002" });
    const raw = (await clients.securityInsights.alertRules.get(...rg(), created.id)) as ScheduledAlertRule;
    expect(raw).toMatchObject({ suppressionDuration: "PT5H", suppressionEnabled: false });
  });
});
