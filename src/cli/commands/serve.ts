import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Command } from "commander";
import {
  checkHttpField,
  type HttpConfig,
  HttpConfigError,
  NotifyConfigError,
  requireHome,
  validateHttpConfig,
  validateNotifyConfig,
} from "../../governance/home.js";
import { NotifyError } from "../../notify/webhook.js";
import { fixFor, LeastPrivilegeRefusal, watchServingIdentity } from "../../rbac/check.js";
import { LOOPBACK_BIND_HOSTS } from "../../server/client-address.js";
import { createMcpServer } from "../../server/mcp.js";
import { openRuntime, type Runtime, type RuntimeOptions } from "../../server/runtime.js";
import { CliError, out } from "../output.js";

interface ServeOptions {
  transport: string;
  host: string;
  port: string;
  allowOrigin: string[];
  allowRemote?: boolean;
  rate?: string;
  burst?: string;
  jobRate?: string;
  jobBurst?: string;
  unauthRate?: string;
  unauthBurst?: string;
  maxSessions?: string;
  maxSessionsPerJob?: string;
  sessionIdleSeconds?: string;
  trustedProxy?: string[];
}

/** The HTTP limits: config.json's `http` section, each field overridden by its flag; every value checked. */
export function httpLimits(config: unknown, o: ServeOptions, where = "config.json"): HttpConfig {
  try {
    const limits: HttpConfig = { ...validateHttpConfig(config, where) };
    const flags: [keyof HttpConfig, string, unknown][] = [
      ["rate", "--rate", o.rate],
      ["burst", "--burst", o.burst],
      ["job_rate", "--job-rate", o.jobRate],
      ["job_burst", "--job-burst", o.jobBurst],
      ["unauth_rate", "--unauth-rate", o.unauthRate],
      ["unauth_burst", "--unauth-burst", o.unauthBurst],
      ["max_sessions", "--max-sessions", o.maxSessions],
      ["max_sessions_per_job", "--max-sessions-per-job", o.maxSessionsPerJob],
      ["session_idle_seconds", "--session-idle-seconds", o.sessionIdleSeconds],
      ["trusted_proxies", "--trusted-proxy", o.trustedProxy],
    ];
    for (const [field, flag, value] of flags)
      if (value !== undefined) (limits as Record<string, unknown>)[field] = checkHttpField(field, value, flag);
    return limits;
  } catch (e) {
    if (e instanceof HttpConfigError) throw new CliError(e.message, 2, e.fix);
    throw e;
  }
}

/**
 * Opens the runtime that serves, sending approval_required webhooks when config.json has `notify`. A bad notify block
 * or a missing secret refuses to start (exit 2), naming the field: approvers would otherwise never hear of requests.
 */
async function openServingRuntime(o: RuntimeOptions, where: string): Promise<Runtime> {
  try {
    return await openRuntime({ ...o, notify: true });
  } catch (e) {
    if (e instanceof NotifyConfigError) throw new CliError(e.message, 2, e.fix);
    if (e instanceof NotifyError)
      throw new CliError(e.message.startsWith("notify.") ? `${where} ${e.message}` : e.message, 2, e.fix);
    throw e;
  }
}

export function registerServeCommand(program: Command, home: () => string): void {
  program
    .command("serve")
    .description(
      "run the governed MCP server (stdio: token from GSMCP_CST; http: bearer token per request; policy: GSMCP_POLICY)",
    )
    .option("--transport <kind>", "stdio | http", "stdio")
    .option("--host <addr>", "http: address to bind", "127.0.0.1")
    .option("--port <n>", "http: port (0 = any free port)", "8765")
    .option("--allow-origin <origin...>", "http: extra allowed Origin values", [])
    .option("--allow-remote", "http: permit binding to a non-loopback address (put TLS in front of it)")
    .option("--rate <n>", "http: requests per second per token (default 20; config.json http.rate)")
    .option("--burst <n>", "http: requests at once per token (default 100)")
    .option("--job-rate <n>", "http: requests per second per job, all its tokens (default 50)")
    .option("--job-burst <n>", "http: requests at once per job (default 250)")
    .option("--unauth-rate <n>", "http: requests per second without a valid token, per client address (default 1)")
    .option("--unauth-burst <n>", "http: such requests at once per client address (default 20)")
    .option("--max-sessions <n>", "http: open sessions in the server (default 256)")
    .option("--max-sessions-per-job <n>", "http: open sessions per job (default 32)")
    .option("--session-idle-seconds <n>", "http: close a session after this long without a request (default 900)")
    .option(
      "--trusted-proxy <cidr...>",
      "http: reverse proxies / load balancers whose X-Forwarded-For is believed (CIDRs or addresses)",
    )
    .action(async (o: ServeOptions) => {
      if (o.transport !== "stdio" && o.transport !== "http")
        throw new CliError(`--transport "${o.transport}" is not a transport`, 2, "use stdio or http");
      const backend = process.env.GSMCP_BACKEND;
      if (backend && backend !== "local" && backend !== "azure") {
        throw new CliError(`GSMCP_BACKEND="${backend}" is not a backend`, 2, "use local or azure");
      }
      // HTTP limits are checked before anything is opened: a bad value stops here, naming the flag or field.
      const { paths, config } = requireHome(home());
      const limits = o.transport === "http" ? httpLimits(config.http, o, paths.config) : undefined;
      try {
        validateNotifyConfig(config.notify, paths.config);
      } catch (e) {
        if (e instanceof NotifyConfigError) throw new CliError(e.message, 2, e.fix);
        throw e;
      }
      const ungoverned = process.env.GSMCP_UNGOVERNED === "1";
      if (ungoverned && (backend ?? "local") !== "local") {
        throw new CliError("GSMCP_UNGOVERNED is only for benchmarks against the local workspace", 2, "unset it");
      }
      if (ungoverned)
        process.stderr.write("gsmcp: WARNING: governance is OFF (benchmark baseline, local workspace only)\n");
      // While it serves, the runtime sends approval_required webhooks and drains their spool; close() stops that.
      const runtime = await openServingRuntime(
        {
          home: home(),
          ...(process.env.GSMCP_CST ? { tokenRef: process.env.GSMCP_CST } : {}),
          ...(process.env.GSMCP_POLICY ? { policyRef: process.env.GSMCP_POLICY } : {}),
          ...(backend ? { backend: backend as "local" | "azure" } : {}),
          ...(ungoverned ? { ungoverned: true } : {}),
        },
        paths.config,
      );
      const dangling = (await runtime.receipts.danglingIntents()).length;
      if (dangling > 0) {
        process.stderr.write(
          `gsmcp: ${dangling} write intent(s) have no outcome (the server stopped mid-write); see "gsmcp receipts dangling"\n`,
        );
      }
      if (runtime.policy instanceof Error) {
        process.stderr.write(`gsmcp: policy not usable, every call will be refused: ${runtime.policy.message}\n`);
      }
      // The server's own Azure identity against the policy (src/rbac/check.ts): now, and every GSMCP_RBAC_CHECK_SECONDS.
      let stopServing = () => void process.kill(process.pid, "SIGTERM");
      const identity = await watchServingIdentity(runtime, {
        onRefuse: () => {
          process.exitCode = 2;
          stopServing();
        },
      }).catch(async (e: unknown) => {
        await runtime.close();
        if (e instanceof LeastPrivilegeRefusal) throw new CliError(e.message, 2, fixFor(e.reports[0]!));
        throw e;
      });
      if (o.transport === "http") {
        if (!LOOPBACK_BIND_HOSTS.has(o.host) && !o.allowRemote) {
          throw new CliError(
            `--host ${o.host} is not loopback`,
            2,
            "bearer tokens would cross the network in clear; add --allow-remote behind a TLS terminator",
          );
        }
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new CliError(`--port "${o.port}" is not a port`, 2);
        const adminFile = join(runtime.paths.keys, "admin-token");
        const adminToken =
          process.env.GSMCP_ADMIN_TOKEN ?? (existsSync(adminFile) ? readFileSync(adminFile, "utf8").trim() : undefined);
        // Loaded only for HTTP: a stdio server (the common case, one per agent host) starts without it.
        const { startHttpServer } = await import("../../server/http.js");
        const http = await startHttpServer(runtime, {
          host: o.host,
          port,
          allowedOrigins: o.allowOrigin,
          ...(limits ? { limits } : {}),
          ...(adminToken ? { adminToken } : {}),
        });
        out(`governed-sentinel-mcp listening on ${http.url}`);
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        identity.stop();
        await http.close();
        await runtime.close();
        return;
      }
      const server = createMcpServer(runtime.session);
      const transport = new StdioServerTransport();
      stopServing = () => void transport.close();
      await new Promise<void>((resolve) => {
        transport.onclose = () => resolve();
        process.stdin.on("end", () => resolve());
        void server.connect(transport);
      });
      identity.stop();
      await runtime.close();
    });
}
