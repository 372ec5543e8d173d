import { describe, expect, it } from "vitest";
import { webhookUrlProblem } from "../../src/notify/webhook.js";
import { isLoopbackHost } from "../../src/server/client-address.js";

// One definition of "this machine" for every place that tolerates plain http (test webhooks, test OIDC providers).
describe("isLoopbackHost", () => {
  it("accepts localhost, 127.0.0.0/8 and ::1 in any spelling", () => {
    for (const h of ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1"])
      expect(isLoopbackHost(h), h).toBe(true);
  });

  it("refuses everything else, including *.localhost names and addresses that only look local", () => {
    for (const h of [
      "evil.localhost",
      "localhost.evil.com",
      "128.0.0.1",
      "10.0.0.1",
      "::2",
      "::ffff:10.0.0.1",
      "0.0.0.0",
      "127.0.0.1.nip.io",
      "",
    ])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it("is what the webhook URL check uses", () => {
    expect(webhookUrlProblem("http://127.0.0.1:9/x")).toBeUndefined();
    expect(webhookUrlProblem("http://evil.localhost/x")).toMatch(/https/);
  });
});
