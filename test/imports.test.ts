import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

// No import cycles among src/ modules (review defect: src/workspace/arm*.ts imported each other in a ring). A cycle
// makes load order matter and hides which module owns what. Type-only imports are ignored: they vanish at runtime.

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );

function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files("src")) {
    const text = readFileSync(f, "utf8");
    const deps: string[] = [];
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^;]*?\s+from\s+)?"(\.{1,2}\/[^"]+)"/gm)) {
      if (m[1]) continue;
      deps.push(normalize(join(dirname(f), m[2]!.replace(/\.js$/, ".ts"))));
    }
    g.set(normalize(f), deps);
  }
  return g;
}

function cycles(g: Map<string, string[]>): string[][] {
  const out: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      if (!g.has(d)) continue;
      if (state.get(d) === "open") out.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of g.keys()) if (!state.has(n)) visit(n);
  return out;
}

describe("module graph", () => {
  it("has no import cycles in src/", () => {
    expect(cycles(graph()).map((c) => c.join(" → "))).toEqual([]);
  });
});
