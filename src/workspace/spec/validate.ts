import { FACTS } from "./facts.js";
import { type Mapper, type MapperSet, type MapperType, sdkMappers } from "./mappers.js";

// Validates a JSON body (the wire form) against a model of the SDK's generated mappers, with the facts the mappers
// lose (facts.ts). Every problem is reported, not just the first.
//
// - "response": everything the model says, read-only fields included; fields the model does not know are problems
//   (Azure sends nothing outside the spec), and the facts' alwaysSent paths must be present.
// - "request": what Azure refuses in a PUT/POST body: missing required fields, wrong types, values outside an enum,
//   an unknown discriminator. Read-only fields are ignored (Azure ignores the client's copies), as are unknown ones.

export type Direction = "request" | "response";

export interface SpecProblem {
  /** Wire path, e.g. "properties.severity" or "value[3].properties.owner.ownerType". */
  path: string;
  message: string;
}

const DURATION =
  /^-?P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A wire path split at its unescaped dots ("properties.a\\.b" is one key "a.b" below "properties"). */
function splitPath(serialized: string): string[] {
  return serialized.split(/(?<!\\)\./).map((p) => p.replace(/\\\./g, "."));
}

function at(body: unknown, keys: string[]): unknown {
  let v = body;
  for (const k of keys) {
    if (!isObject(v)) return undefined;
    v = v[k];
  }
  return v;
}

const join = (base: string, key: string) => (base ? `${base}.${key}` : key);

class Validator {
  readonly problems: SpecProblem[] = [];
  constructor(
    private readonly set: MapperSet,
    private readonly direction: Direction,
  ) {}

  private add(path: string, message: string): void {
    this.problems.push({ path: path || "(body)", message });
  }

  /** The concrete model of a composite value, following its discriminator. */
  private resolve(className: string, value: Record<string, unknown>, path: string): MapperType | undefined {
    const model = this.set.models[className]?.type;
    if (!model) {
      this.add(path, `unknown model ${className}`);
      return undefined;
    }
    const disc = model.polymorphicDiscriminator;
    if (!disc) return model;
    const kind = value[disc.serializedName];
    if (kind === undefined) return model; // reported as a missing required field
    const root = className;
    const sub = this.set.discriminators[`${root}.${String(kind)}`];
    if (sub) return sub.type;
    // A subtype's own discriminator value ("Scheduled" on ScheduledAlertRule) names itself.
    const own = Object.entries(this.set.discriminators).find(([, m]) => m.type === model);
    if (own?.[0].endsWith(`.${String(kind)}`)) return model;
    const known = Object.keys(this.set.discriminators)
      .filter((k) => k.startsWith(`${root}.`))
      .map((k) => k.slice(root.length + 1));
    if (known.length) this.add(join(path, disc.serializedName), `"${String(kind)}" is not one of ${known.join(", ")}`);
    return model;
  }

  value(mapper: Mapper, v: unknown, path: string, enumFact?: readonly string[]): void {
    if (v === undefined || v === null) return;
    const t = mapper.type;
    const bad = (what: string) => this.add(path, `expected ${what}, got ${Array.isArray(v) ? "array" : typeof v}`);
    switch (t.name) {
      case "String":
        if (typeof v !== "string") {
          bad("a string");
          return;
        }
        if (enumFact && !enumFact.includes(v)) this.add(path, `"${v}" is not one of ${enumFact.join(", ")}`);
        return;
      case "Enum":
        if (!(t.allowedValues ?? []).includes(v))
          this.add(path, `${JSON.stringify(v)} is not one of ${(t.allowedValues ?? []).join(", ")}`);
        return;
      case "Number":
        if (typeof v !== "number" || !Number.isFinite(v)) bad("a number");
        return;
      case "Boolean":
        if (typeof v !== "boolean") bad("a boolean");
        return;
      case "DateTime":
      case "Date":
      case "DateTimeRfc1123":
        if (typeof v !== "string" || Number.isNaN(Date.parse(v))) this.add(path, "expected a date-time string");
        return;
      case "TimeSpan":
        if (typeof v !== "string" || !DURATION.test(v)) this.add(path, "expected an ISO 8601 duration (e.g. PT5H)");
        return;
      case "Uuid":
        if (typeof v !== "string" || !UUID.test(v)) this.add(path, "expected a GUID");
        return;
      case "Sequence":
        if (!Array.isArray(v)) {
          bad("an array");
          return;
        }
        v.forEach((x, i) => {
          this.value(t.element!, x, `${path}[${i}]`, enumFact);
        });
        return;
      case "Dictionary":
        if (!isObject(v)) {
          bad("an object");
          return;
        }
        for (const [k, x] of Object.entries(v)) this.value(t.value!, x, join(path, k));
        return;
      case "Composite":
        if (!isObject(v)) {
          bad("an object");
          return;
        }
        this.composite(t.className!, v, path);
        return;
      default:
        return; // "any", "Object", "Stream": anything goes
    }
  }

  composite(className: string, body: Record<string, unknown>, path: string): void {
    const model = this.resolve(className, body, path);
    if (!model) return;
    const props = model.modelProperties ?? {};
    const facts = FACTS[model.className ?? className];
    const known = { leaves: new Set<string>(), levels: new Set<string>() };
    for (const [, m] of Object.entries(props)) {
      if (!m.serializedName) continue;
      const keys = splitPath(m.serializedName);
      known.leaves.add(keys.join("\u0000"));
      for (let i = 1; i < keys.length; i++) known.levels.add(keys.slice(0, i).join("\u0000"));
      if (this.direction === "request" && m.readOnly) continue;
      const p = join(path, keys.join("."));
      const v = at(body, keys);
      const required = m.required || facts?.required?.includes(m.serializedName);
      if (required && (v === undefined || v === null)) {
        this.add(p, "is required");
        continue;
      }
      if (m.isConstant && v !== undefined && v !== m.defaultValue)
        this.add(p, `must be ${JSON.stringify(m.defaultValue)}`);
      this.value(m, v, p, facts?.enums?.[m.serializedName]);
    }
    if (this.direction !== "response") return;
    for (const sent of facts?.alwaysSent ?? [])
      if (at(body, splitPath(sent)) === undefined) this.add(join(path, sent), "is missing (Azure always sends it)");
    if (model.additionalProperties) return;
    this.unknown(body, [], known, path);
  }

  /** Fields a response carries that the model does not know (flattening levels such as "properties" are walked). */
  private unknown(
    obj: Record<string, unknown>,
    prefix: string[],
    known: { leaves: Set<string>; levels: Set<string> },
    path: string,
  ): void {
    for (const [k, v] of Object.entries(obj)) {
      const keys = [...prefix, k];
      const id = keys.join("\u0000");
      if (known.leaves.has(id)) continue; // checked by its own type
      if (known.levels.has(id) && isObject(v)) this.unknown(v, keys, known, path);
      else this.add(join(path, keys.join(".")), "is not in the model");
    }
  }
}

/** Every problem of `body` against the SDK model `model` (a mapper class name such as "ScheduledAlertRule"). */
export function validateBody(model: string, body: unknown, direction: Direction): SpecProblem[] {
  const v = new Validator(sdkMappers(), direction);
  if (!isObject(body)) return [{ path: "(body)", message: "expected a JSON object" }];
  v.composite(model, body, "");
  return v.problems;
}

/** One line per problem, for error messages and test output. */
export function describeProblems(problems: SpecProblem[]): string {
  return problems
    .map((p) => (p.message.startsWith("is ") ? `${p.path} ${p.message}` : `${p.path}: ${p.message}`))
    .join("; ");
}
