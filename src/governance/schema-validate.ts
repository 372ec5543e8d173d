import { createRequire } from "node:module";
import type { ErrorObject, Options, ValidateFunction } from "ajv";

// ajv and ajv-formats are CommonJS; require() gives their constructors without ESM interop guesswork.
const require = createRequire(import.meta.url);
interface AjvInstance {
  compile(schema: object): ValidateFunction;
}
const Ajv2020 = require("ajv/dist/2020.js") as new (opts: Options) => AjvInstance;
const addFormats = require("ajv-formats") as (ajv: AjvInstance) => void;

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv);

const cache = new Map<object, ValidateFunction>();

/** Validates `value` against a JSON Schema; returns one readable line per problem, each naming the field. */
export function validateAgainst(schema: object, value: unknown): string[] {
  let validate = cache.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    cache.set(schema, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map(describeAjvError);
}

function describeAjvError(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replaceAll("/", ".") : "(root)";
  if (e.keyword === "additionalProperties") {
    return `${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}" (remove it)`;
  }
  if (e.keyword === "required") {
    return `${where}: missing required field "${(e.params as { missingProperty: string }).missingProperty}"`;
  }
  if (e.keyword === "enum") {
    return `${where}: must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
  }
  return `${where}: ${e.message ?? e.keyword}`;
}
