import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { runInNewContext } from "node:vm";

// The Azure SDK's own generated models (@azure/arm-securityinsight, generated from the 2022-09-01-preview OpenAPI),
// read from node_modules at run time: the package does not export them, and its ESM build has no "type": "module",
// so the file is evaluated in a sandbox instead of imported. Nothing from it is copied into this repository.

export interface MapperType {
  name: string;
  className?: string;
  modelProperties?: Record<string, Mapper>;
  allowedValues?: unknown[];
  element?: Mapper;
  value?: Mapper;
  uberParent?: string;
  polymorphicDiscriminator?: { serializedName: string; clientName: string };
  additionalProperties?: unknown;
}

export interface Mapper {
  serializedName?: string;
  required?: boolean;
  readOnly?: boolean;
  isConstant?: boolean;
  defaultValue?: unknown;
  nullable?: boolean;
  constraints?: Record<string, unknown>;
  type: MapperType;
}

export interface MapperSet {
  models: Record<string, Mapper>;
  /** "Parent.discriminatorValue" → the subtype's mapper (e.g. "AlertRule.Scheduled"). */
  discriminators: Record<string, Mapper>;
}

let cached: MapperSet | undefined;

/** The SDK's mappers, loaded once. */
export function sdkMappers(): MapperSet {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("@azure/arm-securityinsight/package.json"));
  const source = readFileSync(join(root, "dist-esm/src/models/mappers.js"), "utf8");
  const names: string[] = [];
  const script = source.replace(/^export (const|let) (\w+) =/gm, (_m, decl: string, name: string) => {
    names.push(name);
    return `${decl} ${name} =`;
  });
  const all = runInNewContext(`${script}\n;({ ${names.join(", ")} })`, {}) as Record<string, unknown>;
  const { discriminators, ...models } = all;
  cached = {
    models: models as Record<string, Mapper>,
    discriminators: discriminators as Record<string, Mapper>,
  };
  return cached;
}
