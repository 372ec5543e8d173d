// gsmcp doctor on the PostgreSQL store (issue 18): the store's reachability and schema, and its receipt log checked as
// `receipts verify` checks it; an unreachable store is reported without its credentials.
import { expect, it } from "vitest";
import type { DoctorCheck } from "../../src/cli/commands/doctor.js";
import { runCli } from "../helpers/cli.js";
import { makeHome, startSession } from "../helpers/home.js";
import { describePg, withPgDatabase } from "../helpers/postgres.js";

const db = await withPgDatabase();

describePg("gsmcp doctor with GSMCP_STORE", db, (pg) => {
  it("checks the PostgreSQL store and its log; a bad password is unsafe and never printed", async () => {
    const h = await makeHome();
    const env = { GSMCP_HOME: h.home, GSMCP_STORE: pg.owner.url };
    const migrated = await runCli(["store", "migrate"], env);
    expect(migrated.code, migrated.out).toBe(0);
    const s = await startSession(h, { env: { GSMCP_STORE: pg.owner.url } });
    try {
      await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
    } finally {
      await s.close();
    }
    const ok = await runCli(["doctor", "--json"], env);
    const checks = JSON.parse(ok.stdout) as DoctorCheck[];
    expect(checks.find((c) => c.check === "store")).toMatchObject({ status: "ok" });
    expect(checks.find((c) => c.check === "receipts")).toMatchObject({ status: "ok" });
    expect(checks.find((c) => c.check === "receipts")?.message).toMatch(/^[1-9]\d* receipts: signatures valid/);

    const wrong = pg.owner.url.replace(`:${encodeURIComponent(pg.owner.password)}@`, ":not-the-password@");
    expect(wrong).not.toBe(pg.owner.url);
    const bad = await runCli(["doctor", "--json"], { ...env, GSMCP_STORE: wrong });
    expect(bad.code).toBe(2);
    const store = (JSON.parse(bad.stdout) as DoctorCheck[]).find((c) => c.check === "store");
    expect(store?.status).toBe("unsafe");
    expect(bad.out).not.toContain("not-the-password");
    expect(bad.out).not.toContain(pg.owner.password);
  }, 120_000);
});
