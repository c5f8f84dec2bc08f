import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The kernel's modules form a DAG: a circle of imports (archive → graph → recovery → archive, as it
 * once was) means no file can be read, tested or moved on its own. Type-only imports count too: they
 * tie the files together for a reader just the same.
 */
const kernelSrc = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "packages",
  "kernel",
  "src",
);

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(full);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [full] : [];
  });
}

/** Relative imports and re-exports of one file, resolved to absolute paths. */
export function relativeImports(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+["'](\.{1,2}\/[^"']+)["']/g)) {
    out.push(path.resolve(path.dirname(file), m[1] as string));
  }
  return out;
}

/** Every import cycle reachable in `graph`, each as the list of files around it (first repeated last). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      const s = state.get(next);
      if (s === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

describe("kernel import graph", () => {
  it("finds a circle when there is one (the checker itself works)", () => {
    const g = new Map([
      ["archive", ["graph"]],
      ["graph", ["recovery"]],
      ["recovery", ["archive", "errors"]],
      ["errors", []],
    ]);
    expect(findCycles(g)).toEqual([["archive", "graph", "recovery", "archive"]]);
    expect(
      relativeImports(
        "/k/src/a.ts",
        'import type { T } from "./b.ts";\nexport { x } from "../c.ts";\nimport fs from "node:fs";',
      ),
    ).toEqual(["/k/src/b.ts", "/k/c.ts"]);
  });

  it("has no import cycles among packages/kernel/src's non-test files", () => {
    const files = sources(kernelSrc);
    expect(files.length).toBeGreaterThan(20);
    const graph = new Map(files.map((f) => [f, relativeImports(f, fs.readFileSync(f, "utf8"))]));
    const cycles = findCycles(graph).map((c) => c.map((f) => path.relative(kernelSrc, f)).join(" → "));
    expect(cycles).toEqual([]);
  });
});
