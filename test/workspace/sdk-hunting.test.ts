import { mkdtempSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SdkBackend } from "../../src/sentinel/sdk-backend.js";
import { createLocalClients, initWorkspace, startWorkspace, type WorkspaceHandle } from "../../src/workspace/index.js";
import { BOOKMARK_IDS, SAVED_SEARCHES } from "../../src/workspace/seed-hunting.js";

// Saved searches (Microsoft.OperationalInsights, @azure/arm-operationalinsights) and bookmarks
// (Microsoft.SecurityInsights) through the real SDK clients against the embedded workspace.
describe("hunting endpoints through the Azure SDK clients", () => {
  let ws: WorkspaceHandle;
  let clients: ReturnType<typeof createLocalClients>;
  const rg = () => ws.ids.resourceGroup;
  const name = () => ws.ids.workspaceName;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-hunt-"));
    await initWorkspace(dir, { seed: 5 });
    ws = await startWorkspace(dir, { port: 0 });
    clients = createLocalClients(ws);
  });
  afterAll(async () => {
    await ws?.close();
  });

  it("lists the seeded saved searches with category, query and tags, and gets one", async () => {
    const res = await clients.operationalInsights.savedSearches.listByWorkspace(rg(), name());
    const all = res.value ?? [];
    expect(all.map((s) => s.name)).toEqual(SAVED_SEARCHES.map((s) => s.id));
    expect(all.filter((s) => s.category === "Hunting Queries").length).toBeGreaterThanOrEqual(7);
    expect(all.some((s) => s.category !== "Hunting Queries")).toBe(true);
    const spray = all[0]!;
    expect(spray.id).toMatch(
      new RegExp(`/providers/Microsoft.OperationalInsights/workspaces/${name()}/savedSearches/${spray.name}$`),
    );
    expect(spray.type).toBe("Microsoft.OperationalInsights/savedSearches");
    expect(spray.query).toContain("SigninLogs");
    expect(spray.tags).toEqual(expect.arrayContaining([{ name: "techniques", value: "T1110,T1110.003" }]));
    const one = await clients.operationalInsights.savedSearches.get(rg(), name(), spray.name!);
    expect(one).toMatchObject({ name: spray.name, displayName: spray.displayName, etag: spray.etag });
  });

  it("creates, replaces and deletes a saved search; validates required properties; 404 for unknown ids", async () => {
    const ss = clients.operationalInsights.savedSearches;
    const created = await ss.createOrUpdate(rg(), name(), "test-search", {
      category: "Hunting Queries",
      displayName: "Test",
      query: "SigninLogs | take 1",
      tags: [{ name: "tactics", value: "Discovery" }],
    });
    expect(created).toMatchObject({ name: "test-search", category: "Hunting Queries", version: 2 });
    await expect(
      ss.createOrUpdate(rg(), name(), "test-search", { category: "x", displayName: "y", query: "" }),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("properties.query is required") });
    await expect(
      ss.createOrUpdate(rg(), name(), "test-search", {
        etag: 'W/"stale"',
        category: "x",
        displayName: "y",
        query: "SigninLogs",
      }),
    ).rejects.toMatchObject({ statusCode: 409 });
    await ss.delete(rg(), name(), "test-search");
    await expect(ss.get(rg(), name(), "test-search")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("routes only savedSearches under the OperationalInsights workspace prefix", async () => {
    const r = await fetchArm(
      `${ws.url}/subscriptions/${ws.ids.subscriptionId}/resourcegroups/${rg()}/providers/Microsoft.OperationalInsights/workspaces/${name()}/tables?api-version=2020-08-01`,
    );
    expect(r.status).toBe(404);
    const nested = await fetchArm(
      `${ws.url}/subscriptions/${ws.ids.subscriptionId}/resourcegroups/${rg()}/providers/Microsoft.OperationalInsights/workspaces/${name()}/savedSearches/a/b?api-version=2020-08-01`,
    );
    expect(nested.status).toBe(404);
    const noVersion = await fetchArm(
      `${ws.url}/subscriptions/${ws.ids.subscriptionId}/resourcegroups/${rg()}/providers/Microsoft.OperationalInsights/workspaces/${name()}/savedSearches`,
    );
    expect(noVersion.status).toBe(400);
  });

  it("lists, gets, creates (server-managed times), updates with etag and deletes bookmarks", async () => {
    const bm = clients.securityInsights.bookmarks;
    const all = [];
    for await (const b of bm.list(rg(), name())) all.push(b);
    expect(all.map((b) => b.name)).toEqual([...BOOKMARK_IDS]);
    expect(all[0]!.incidentInfo?.incidentId).toBeTruthy();
    expect(all[0]!.eventTime).toBeInstanceOf(Date);
    const got = await bm.get(rg(), name(), BOOKMARK_IDS[1]);
    expect(got).toMatchObject({ displayName: all[1]!.displayName, techniques: ["T1059.001"] });

    const created = await bm.createOrUpdate(rg(), name(), "bm-test", {
      displayName: "Evidence",
      query: "SigninLogs | take 1",
      labels: ["t"],
      created: new Date("2000-01-01T00:00:00Z"),
    });
    expect(created.type).toBe("Microsoft.SecurityInsights/Bookmarks");
    expect(created.created!.getFullYear()).toBeGreaterThan(2000); // the client cannot set created
    const updated = await bm.createOrUpdate(rg(), name(), "bm-test", {
      etag: created.etag,
      displayName: "Evidence 2",
      query: "SigninLogs | take 2",
    });
    expect(updated.created!.getTime()).toBe(created.created!.getTime());
    expect(updated.etag).not.toBe(created.etag);
    await expect(
      bm.createOrUpdate(rg(), name(), "bm-test", { etag: created.etag, displayName: "x", query: "y" }),
    ).rejects.toMatchObject({ statusCode: 412 });
    await expect(bm.createOrUpdate(rg(), name(), "bm-bad", { query: "SigninLogs" })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("properties.displayName is required"),
    });
    await expect(bm.createOrUpdate(rg(), name(), "bm-bad", { displayName: "x" })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("properties.query is required"),
    });
    await bm.delete(rg(), name(), "bm-test");
    await expect(bm.get(rg(), name(), "bm-test")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("the backend maps both through the same clients, with ARM errors as backend errors", async () => {
    const backend = new SdkBackend(
      {
        subscriptionId: ws.ids.subscriptionId,
        resourceGroup: rg(),
        workspaceName: name(),
        workspaceId: ws.ids.workspaceId,
      },
      clients,
    );
    const searches = await backend.listSavedSearches();
    expect(searches[0]).toMatchObject({ id: SAVED_SEARCHES[0]!.id, category: "Hunting Queries" });
    await expect(backend.getSavedSearch("nope")).rejects.toMatchObject({ failure: "not_found", status: 404 });
    const b = await backend.putBookmark("bm-mapped", {
      displayName: "Mapped",
      query: "AuditLogs | take 1",
      eventTime: "2024-05-01T12:00:00.000Z",
      tactics: ["Persistence"],
      techniques: ["T1098"],
    });
    expect(b).toMatchObject({
      id: "bm-mapped",
      eventTime: "2024-05-01T12:00:00.000Z",
      tactics: ["Persistence"],
      techniques: ["T1098"],
      labels: [],
    });
    expect((await backend.listBookmarks()).map((x) => x.id)).toContain("bm-mapped");
    await backend.deleteBookmark("bm-mapped");
    await expect(backend.getBookmark("bm-mapped")).rejects.toMatchObject({ failure: "not_found", status: 404 });
  });

  /** A raw ARM request with the workspace's bearer secret (for paths no SDK operation produces). */
  function fetchArm(url: string): Promise<{ status: number }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { ca: ws.caPem, headers: { authorization: `Bearer ${ws.secret}` } }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
      });
      req.on("error", reject);
      req.end();
    });
  }
});
