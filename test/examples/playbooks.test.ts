import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ADMIN_ROUTES, matchAdminRoute } from "../../src/server/admin.js";

// The playbook ARM templates parse, are internally consistent (parameters, variables, runAfter), call only operator
// routes the server serves (method, path, query parameters), and never put attacker text into an incident comment.

const DIR = new URL("../../examples/playbooks/", import.meta.url);
const FILES = ["pause-agent.json", "collect-forensics.json", "notify-external.json"];

interface Action {
  type: string;
  runAfter?: Record<string, string[]>;
  inputs?: Record<string, unknown>;
  actions?: Record<string, Action>;
  else?: { actions?: Record<string, Action> };
  foreach?: string;
}
type Template = {
  $schema: string;
  parameters: Record<string, unknown>;
  variables: Record<string, unknown>;
  resources: { type: string; properties: { definition?: { actions: Record<string, Action>; triggers: object } } }[];
};

const load = (f: string) => JSON.parse(readFileSync(new URL(f, DIR), "utf8")) as Template;

/** Every action with its name and its siblings, depth first. */
function walk(actions: Record<string, Action>, out: { name: string; a: Action; siblings: string[] }[] = []) {
  const names = Object.keys(actions);
  for (const [name, a] of Object.entries(actions)) {
    out.push({ name, a, siblings: names });
    if (a.actions) walk(a.actions, out);
    if (a.else?.actions) walk(a.else.actions, out);
  }
  return out;
}

const workflow = (t: Template) =>
  t.resources.find((r) => r.type === "Microsoft.Logic/workflows")!.properties.definition!;

describe("playbook ARM templates", () => {
  it.each(FILES)("%s parses and is consistent", (file) => {
    const t = load(file);
    expect(t.$schema).toMatch(/deploymentTemplate\.json#$/);
    const text = JSON.stringify(t);
    // ARM expressions ("[…]") name template parameters; workflow expressions ("@…") name the definition's parameters,
    // which the workflow resource must supply.
    const wf = t.resources.find((r) => r.type === "Microsoft.Logic/workflows")!.properties as unknown as {
      definition: { parameters: Record<string, unknown> };
      parameters: Record<string, { value: unknown }>;
    };
    const strings: string[] = [];
    JSON.stringify(t, (_k, v) => {
      if (typeof v === "string") strings.push(v);
      return v;
    });
    for (const str of strings) {
      const arm = str.startsWith("[") && !str.startsWith("[[");
      for (const m of str.matchAll(/parameters\('([^']+)'\)/g)) {
        if (arm) expect(m[1]! in t.parameters, `${file}: template parameter ${m[1]}`).toBe(true);
        else {
          expect(m[1]! in wf.definition.parameters, `${file}: workflow parameter ${m[1]}`).toBe(true);
          expect(m[1]! in wf.parameters, `${file}: workflow parameter ${m[1]} is supplied`).toBe(true);
        }
      }
    }
    for (const m of text.matchAll(/\[variables\('([^']+)'\)/g))
      expect(m[1]! in t.variables, `${file}: ${m[1]}`).toBe(true);
    const actions = walk(workflow(t).actions);
    expect(actions.length).toBeGreaterThan(2);
    for (const { name, a, siblings } of actions)
      for (const dep of Object.keys(a.runAfter ?? {}))
        expect(siblings, `${file}: ${name} runs after ${dep}`).toContain(dep);
    // Logic App variables are initialised before use.
    const initialised = new Set(
      actions
        .filter(({ a }) => a.type === "InitializeVariable")
        .flatMap(({ a }) => (a.inputs!.variables as { name: string }[]).map((v) => v.name)),
    );
    for (const m of text.matchAll(/@[^"]*?variables\('([^']+)'\)/g))
      expect(initialised, `${file}: ${m[1]}`).toContain(m[1]);
  });

  it("call only the server's operator routes, with the operator token from Key Vault", () => {
    const used = new Set<string>();
    for (const file of FILES) {
      for (const { name, a } of walk(workflow(load(file)).actions)) {
        if (a.type !== "Http") continue;
        const inputs = a.inputs as { method: string; uri: string; headers: Record<string, string>; queries?: object };
        const prefix = "@{parameters('GsmcpBaseUrl')}";
        expect(inputs.uri.startsWith(prefix), `${file} ${name}`).toBe(true);
        const template = inputs.uri.slice(prefix.length);
        // Every id in the path is encoded.
        for (const m of template.matchAll(/@\{([^}]*)\}/g)) expect(m[1]).toMatch(/^encodeURIComponent\(/);
        const path = template.replace(/@\{[^}]*\}/g, "id-1");
        const { route } = matchAdminRoute(inputs.method.toUpperCase(), path);
        for (const q of Object.keys(inputs.queries ?? {})) expect(route.query, `${file} ${name} ?${q}`).toContain(q);
        expect(inputs.headers.Authorization).toBe("Bearer @{body('Get_operator_token')?['value']}");
        used.add(`${route.method} ${route.path}`);
      }
    }
    // Every route has its playbook, except resume: a person resumes a job after review.
    expect([...used].sort()).toEqual(
      ADMIN_ROUTES.filter((r) => !r.path.endsWith("/resume"))
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    );
  });

  it("comment only what the server rendered and escaped, never the incident's or the alerts' text", () => {
    for (const file of FILES) {
      for (const { name, a } of walk(workflow(load(file)).actions)) {
        if (a.inputs?.path !== "/Incidents/Comment") continue;
        const body = a.inputs.body as { incidentArmId: string; message: string };
        expect(body.incidentArmId).toBe("@triggerBody()?['object']?['id']");
        expect(body.message, `${file} ${name}`).not.toMatch(/triggerBody|items\(|Custom Details/);
      }
    }
    const collect = walk(workflow(load("collect-forensics.json")).actions);
    const comment = collect.find(({ name }) => name === "Comment_forensics")!.a;
    expect((comment.inputs!.body as { message: string }).message).toBe(
      "@body('Get_forensics')?['comment']?['message']",
    );
  });
});
