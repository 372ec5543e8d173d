/**
 * The approver console's OpenID Connect configuration: which provider, which client, which roles.
 *
 * The file names the environment variable that holds the client secret (`client_secret_env`), never the secret.
 * Every problem is reported at once, each naming its field and the fix.
 */

import { readFile } from "node:fs/promises";
import { z } from "zod";
import { isLoopbackHost } from "../server/client-address.js";

const ENTRA_ORIGIN = "https://login.microsoftonline.com";

/** Hosts for which an http:// issuer or redirect URI is tolerated (local test providers only). */
export { isLoopbackHost };

function httpsOrLoopback(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === "https:" || (u.protocol === "http:" && isLoopbackHost(u.hostname));
  } catch {
    return false;
  }
}

const url = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .refine((v) => URL.canParse(v), { error: `${what} is not a URL` })
    .refine(httpsOrLoopback, { error: `${what} must be https:// (http:// is allowed only for a loopback host)` });

export const ConsoleOidcConfigSchema = z
  .object({
    /** Issuer identifier to discover, e.g. https://login.microsoftonline.com/organizations/v2.0 or .../<tenant-id>/v2.0. */
    issuer: url("issuer"),
    client_id: z.string({ error: "client_id is required" }).min(1, { error: "client_id is empty" }),
    /** NAME of the environment variable holding the client secret. */
    client_secret_env: z
      .string({ error: "client_secret_env is required" })
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "client_secret_env must be an environment variable name" }),
    redirect_uri: url("redirect_uri"),
    /** Entra tenant ids (`tid`) allowed to sign in; when set, `iss` is checked per tenant. */
    allowed_tenants: z
      .array(z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i), {
        error: "allowed_tenants must be a list of tenant ids (GUIDs)",
      })
      .min(1, { error: "allowed_tenants is empty: remove it or list at least one tenant id" })
      .optional(),
    roles_claim: z.string().min(1).default("roles"),
    role_values: z
      .object({ approver: z.string().min(1).default("Approver"), reviewer: z.string().min(1).default("Reviewer") })
      .strict()
      .default({ approver: "Approver", reviewer: "Reviewer" }),
    scopes: z
      .string()
      .default("openid profile email")
      .refine((s) => s.split(/\s+/).includes("openid"), { error: "scopes must include openid" }),
    /**
     * How to ask the provider for multi-factor authentication when a step needs it. The answer is always checked
     * (`amr` must contain "mfa"); these only ask. Entra: a Conditional Access authentication context (c1…c99)
     * requested as the essential `acrs` claim. Standard providers: an essential `acr` value and/or `acr_values`.
     */
    mfa: z
      .object({
        acr_values: z.string().min(1).optional(),
        essential_claim: z.object({ name: z.enum(["acr", "acrs"]), value: z.string().min(1) }).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    let issuer: URL;
    try {
      issuer = new URL(c.issuer);
    } catch {
      return;
    }
    const multiTenant = issuer.origin === ENTRA_ORIGIN && /^\/(organizations|common)\//.test(issuer.pathname);
    if (issuer.pathname.startsWith("/consumers/")) {
      ctx.addIssue({
        code: "custom",
        path: ["issuer"],
        message: "issuer is the Entra consumers endpoint: personal Microsoft accounts cannot be approvers",
      });
    }
    if (multiTenant && !c.allowed_tenants) {
      ctx.addIssue({
        code: "custom",
        path: ["allowed_tenants"],
        message: "a multi-tenant Entra issuer (organizations/common) lets any tenant sign in: set allowed_tenants",
      });
    }
  });

export type ConsoleOidcConfig = z.infer<typeof ConsoleOidcConfigSchema>;

/** The configuration with the client secret read from its environment variable. */
export interface ResolvedConsoleOidcConfig extends ConsoleOidcConfig {
  client_secret: string;
}

export interface ConfigProblem {
  field: string;
  message: string;
  fix: string;
}

export class ConsoleConfigError extends Error {
  override readonly name = "ConsoleConfigError";
  constructor(
    readonly problems: ConfigProblem[],
    readonly source?: string,
  ) {
    super(
      `${source ? `${source}: ` : ""}invalid console OIDC configuration:\n${problems
        .map((p) => `  - ${p.field}: ${p.message} (fix: ${p.fix})`)
        .join("\n")}`,
    );
  }
}

const FIXES: Record<string, string> = {
  issuer:
    'set "issuer" to the provider\'s issuer URL, e.g. "https://login.microsoftonline.com/<tenant-id>/v2.0" or ".../organizations/v2.0"',
  client_id: 'set "client_id" to the application (client) id of the console\'s app registration',
  client_secret_env: 'set "client_secret_env" to the NAME of an environment variable (e.g. "GSMCP_CONSOLE_SECRET")',
  redirect_uri: 'set "redirect_uri" to the console\'s callback, e.g. "https://console.example.com/auth/callback"',
  allowed_tenants: 'list the Entra tenant ids allowed to sign in, e.g. "allowed_tenants": ["<tenant-guid>"]',
  roles_claim: 'set "roles_claim" to the id token claim carrying app roles (Entra: "roles")',
  role_values: 'set "role_values" to {"approver": "<app role value>", "reviewer": "<app role value>"}',
  scopes: 'set "scopes" to a space-separated list including "openid", e.g. "openid profile email"',
  mfa: 'set "mfa" to {"essential_claim": {"name": "acrs", "value": "c1"}} (Entra) or {"acr_values": "..."}',
};

/** Validates a parsed configuration object; throws ConsoleConfigError listing every problem. */
export function parseConsoleOidcConfig(raw: unknown, source?: string): ConsoleOidcConfig {
  const parsed = ConsoleOidcConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue): ConfigProblem => {
    const field = issue.path.length ? issue.path.join(".") : "(root)";
    const top = String(issue.path[0] ?? "");
    let message = issue.message;
    if (issue.code === "unrecognized_keys") message = `unknown field(s) ${issue.keys.join(", ")}`;
    const fix =
      issue.code === "unrecognized_keys"
        ? `remove ${issue.keys.join(", ")}${issue.keys.includes("client_secret") ? ' (put the secret in an environment variable and name it in "client_secret_env")' : ""}`
        : (FIXES[top] ?? "see the console OIDC configuration reference");
    return { field, message, fix };
  });
  throw new ConsoleConfigError(problems, source);
}

/** Reads the client secret named by `client_secret_env` from `env`. */
export function resolveConsoleOidcConfig(
  config: ConsoleOidcConfig,
  env: NodeJS.ProcessEnv = process.env,
  source?: string,
): ResolvedConsoleOidcConfig {
  const secret = env[config.client_secret_env];
  if (!secret) {
    throw new ConsoleConfigError(
      [
        {
          field: "client_secret_env",
          message: `environment variable ${config.client_secret_env} is not set or empty`,
          fix: `export ${config.client_secret_env}=<the app registration's client secret> before starting the console`,
        },
      ],
      source,
    );
  }
  return { ...config, client_secret: secret };
}

/** Loads a JSON configuration file and resolves its secret from the environment. */
export async function loadConsoleOidcConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedConsoleOidcConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new ConsoleConfigError(
      [
        {
          field: "(file)",
          message: `cannot read JSON: ${(err as Error).message}`,
          fix: "point to a readable JSON file holding the console OIDC configuration",
        },
      ],
      file,
    );
  }
  return resolveConsoleOidcConfig(parseConsoleOidcConfig(raw, file), env, file);
}
