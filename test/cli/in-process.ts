import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Options, ValidateFunction } from "ajv";
import { main } from "../../src/cli/main.js";
import type { CliRun } from "../helpers/cli.js";

// The CLI run in this process (main(argv) with stdout and stderr captured): the same code path as bin/gsmcp-dev.js
// without a tsx start per command, for tests that run dozens of commands. Calls are serialised: main keeps the
// --json mode of the command it runs.

let queue: Promise<unknown> = Promise.resolve();

export function gsmcpInProcess(args: string[]): Promise<CliRun> {
  const run = queue.then(async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const ow = process.stdout.write.bind(process.stdout);
    const ew = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((c: string | Uint8Array) => {
      stdout.push(typeof c === "string" ? c : Buffer.from(c).toString("utf8"));
      return true;
    }) as typeof process.stdout.write;
    process.stderr.write = ((c: string | Uint8Array) => {
      stderr.push(typeof c === "string" ? c : Buffer.from(c).toString("utf8"));
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(args);
    } finally {
      process.stdout.write = ow;
      process.stderr.write = ew;
    }
    const out = stdout.join("");
    const err = stderr.join("");
    return { code, stdout: out, stderr: err, out: out + err } satisfies CliRun;
  });
  queue = run.catch(() => {});
  return run;
}

const require = createRequire(import.meta.url);
interface AjvInstance {
  addSchema(schema: object): AjvInstance;
  getSchema(id: string): ValidateFunction | undefined;
  errorsText(errors?: unknown): string;
}
const Ajv2020 = require("ajv/dist/2020.js") as new (opts: Options) => AjvInstance;
const addFormats = require("ajv-formats") as (ajv: AjvInstance) => void;

export const SCHEMA_DIR = fileURLToPath(new URL("../../schemas/cli", import.meta.url));
export const CLI_SCHEMAS = readdirSync(SCHEMA_DIR)
  .filter((f) => f.endsWith(".schema.json"))
  .map((f) => f.replace(/\.schema\.json$/, ""));

/** ajv (strict) holding every schemas/cli/*.schema.json and the receipt schema they refer to. */
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv);
ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, "../receipt.schema.json"), "utf8")));
for (const name of CLI_SCHEMAS)
  ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, `${name}.schema.json`), "utf8")));

/** Validates a --json output against schemas/cli/<name>.schema.json; returns ajv's error text, "" when valid. */
export function schemaErrors(name: string, value: unknown): string {
  const validate = ajv.getSchema(`https://governed-sentinel-mcp.dev/schemas/cli/${name}.schema.json`);
  if (!validate) throw new Error(`no schema schemas/cli/${name}.schema.json`);
  return validate(value) ? "" : ajv.errorsText(validate.errors);
}
