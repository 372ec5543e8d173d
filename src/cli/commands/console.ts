import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { requireHome } from "../../governance/home.js";
import { loadSigningKey } from "../../governance/trust.js";
import { LOOPBACK_BIND_HOSTS } from "../../server/client-address.js";
import { openStore } from "../../state/open.js";
import { CliError, out } from "../output.js";

interface ConsoleOptions {
  host: string;
  port: string;
  oidc?: string;
  publicUrl?: string;
  reminders: boolean;
}

export function registerConsoleCommand(program: Command, home: () => string): void {
  program
    .command("console")
    .description(
      "the approver console: sign in with OpenID Connect, review and decide approvals, jobs, policies, tools",
    )
    .option("--host <host>", "address to bind (loopback unless --public-url is an https origin)", "127.0.0.1")
    .option("--port <n>", "port (0: any free port)", "8787")
    .option("--oidc <file>", "OIDC configuration (JSON); default GSMCP_HOME/console/oidc.json")
    .option("--public-url <url>", "the console's public https origin, when behind a TLS proxy")
    .option("--no-reminders", "do not send approval_reminder webhooks (config.json notify)")
    .action(async (o: ConsoleOptions) => {
      const { paths, config } = requireHome(home());
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port "${o.port}" is not a port`, 2);
      if (o.publicUrl && !/^https:\/\/[^/]+\/?$/.test(o.publicUrl))
        throw new CliError(
          `--public-url ${o.publicUrl} is not an https origin`,
          2,
          "e.g. --public-url https://approvals.contoso.com",
        );
      if (!LOOPBACK_BIND_HOSTS.has(o.host) && !o.publicUrl)
        throw new CliError(
          `--host ${o.host} is not loopback`,
          2,
          "session cookies would cross the network in clear: serve on loopback behind a TLS proxy and pass --public-url https://…",
        );
      const oidcFile = o.oidc ?? join(paths.root, "console", "oidc.json");
      if (!existsSync(oidcFile)) {
        mkdirSync(join(paths.root, "console"), { recursive: true, mode: 0o700 });
        throw new CliError(
          `no OIDC configuration at ${oidcFile}`,
          2,
          'write {"issuer": "https://login.microsoftonline.com/<tenant-id>/v2.0", "client_id": "…", "client_secret_env": "GSMCP_CONSOLE_CLIENT_SECRET", "redirect_uri": "http://127.0.0.1:8787/callback"} there (see docs/console.md)',
        );
      }
      const [{ loadConsoleOidcConfig }, { createOidcSignIn }, { runConsole }] = await Promise.all([
        import("../../console/oidc-config.js"),
        import("../../console/oidc.js"),
        import("../../console/run.js"),
      ]);
      const oidc = await loadConsoleOidcConfig(oidcFile).catch((e: Error) => {
        throw new CliError(e.message, 2, "fix the fields named above");
      });
      const signIn = await createOidcSignIn(oidc).catch((e: Error) => {
        throw new CliError(`cannot reach the OIDC provider ${oidc.issuer}: ${e.message}`, 1);
      });
      const approverKey = loadSigningKey(paths, "approver");
      const state = await openStore(paths);
      const running = await runConsole({
        paths,
        config,
        state,
        approverKey,
        signIn,
        redirectUri: oidc.redirect_uri,
        host: o.host,
        port,
        ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}),
      });
      const stopReminders = o.reminders
        ? (await import("../../console/reminders.js")).startReminders({ paths, config, state, consoleUrl: running.url })
        : undefined;
      out(`gsmcp console listening on ${running.url} (sign-in: ${oidc.issuer})`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      stopReminders?.();
      await running.close();
      await state.close();
    });
}
