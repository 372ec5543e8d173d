import { mkdtempSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalClients, initWorkspace, startWorkspace, type WorkspaceHandle } from "../../src/workspace/index.js";

// The Log Analytics query API as Azure serves it: POST and GET /v1/workspaces/{id}/query, and POST /v1/$batch, where
// each request answers on its own (a bad query is that request's error, not the batch's).
describe("Log Analytics query API: GET and $batch", () => {
  let ws: WorkspaceHandle;
  let clients: ReturnType<typeof createLocalClients>;
  const get = (path: string) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = httpsRequest(
        `${ws.url}${path}`,
        { ca: ws.caPem, headers: { authorization: `Bearer ${ws.secret}` } },
        (res) => {
          let text = "";
          res.on("data", (d) => {
            text += d;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on("error", reject);
      req.end();
    });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-logs-api-"));
    await initWorkspace(dir, { seed: 3 });
    ws = await startWorkspace(dir, { port: 0 });
    clients = createLocalClients(ws);
  });
  afterAll(async () => ws?.close());

  it("GET /query answers as POST does", async () => {
    const q = encodeURIComponent("SigninLogs | count");
    const viaGet = await get(`/v1/workspaces/${ws.ids.workspaceId}/query?query=${q}&timespan=P30D`);
    expect(viaGet.status).toBe(200);
    const viaPost = await clients.logsQuery.queryWorkspace(ws.ids.workspaceId, "SigninLogs | count", {
      duration: "P30D",
    });
    const rows = (viaGet.body.tables as { rows: unknown[][] }[])[0]!.rows;
    expect(rows[0]![0]).toBe((viaPost as { tables: { rows: unknown[][] }[] }).tables[0]!.rows[0]![0]);
    expect((await get(`/v1/workspaces/${ws.ids.workspaceId}/query`)).status).toBe(400);
  });

  it("$batch through the SDK's queryBatch: answers in order, a bad query fails alone", async () => {
    const id = ws.ids.workspaceId;
    const results = await clients.logsQuery.queryBatch([
      { workspaceId: id, query: "SigninLogs | count", timespan: { duration: "P30D" } },
      { workspaceId: id, query: "SigninLogs | where", timespan: { duration: "P1D" } },
      { workspaceId: id, query: "print x = 41 + 1", timespan: { duration: "P1D" } },
    ]);
    expect(results).toHaveLength(3);
    const [count, bad, printed] = results as unknown as { status: string; tables?: { rows: unknown[][] }[] }[];
    expect(count!.status).toBe("Success");
    expect(Number(count!.tables![0]!.rows[0]![0])).toBeGreaterThan(0);
    // The SDK reports any response body carrying an error as PartialFailure.
    expect(bad!.status).not.toBe("Success");
    expect(printed!.tables![0]!.rows[0]![0]).toBe(42);
  });
});
