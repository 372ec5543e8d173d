import type { IncomingMessage } from "node:http";
import type { SigningKey } from "../crypto/keys.js";
import type { HomeConfig, HomePaths } from "../governance/home.js";
import type { StateStore } from "../state/contract.js";
import type { ContextDeps } from "./context.js";
import type { Markup } from "./html.js";
import { HttpError } from "./http-util.js";
import type { LoginTransaction, Person, StartLoginOptions } from "./oidc.js";
import type { ConsoleSession } from "./session.js";

/** The sign-in the console needs (OidcSignIn implements it). */
export interface SignIn {
  startLogin(
    returnTo: string,
    options?: StartLoginOptions,
  ): Promise<{ url: URL | string; transaction: LoginTransaction }>;
  finishLogin(callbackUrl: string | URL, transaction: LoginTransaction): Promise<Person>;
}

export interface ConsoleDeps {
  paths: HomePaths;
  config: HomeConfig;
  state: StateStore;
  /** The approver key: only the console process holds it, never the MCP server. */
  approverKey: SigningKey;
  signIn: SignIn;
  /** The redirect_uri registered with the provider (the console's /callback). */
  redirectUri: string;
  context: ContextDeps;
  /** The console's public origin (e.g. https://approvals.contoso.com); the Host header's origin when absent. */
  origin?: string;
  secure: boolean;
  now?: () => number;
}

/** What a page handler gets: the request, the signed-in person and their session, the console's dependencies. */
export interface PageRequest {
  req: IncomingMessage;
  url: URL;
  session: ConsoleSession;
  person: Person;
  deps: ConsoleDeps;
  csrf: string;
}

export type PageResult = { status?: number; title: string; body: Markup; active?: string } | { redirect: string };

export function requireRole(person: Person, role: "approver" | "reviewer"): void {
  if (!person.roles.includes(role))
    throw new HttpError(
      403,
      `${person.name ?? person.id} does not have the ${role} role`,
      `ask an administrator to assign the console's ${role === "approver" ? "Approver" : "Reviewer"} app role`,
    );
}
