import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import nextConfig from "../next.config.ts";

/**
 * The web app's own boundaries, on top of the repository's layering test: the API runs only on
 * the server (the route handler and env.ts), client components see nothing of it but its types,
 * and env.ts is the only reader of the environment. @kanban/contract (constants, no imports) is fine anywhere.
 */
const SRC = path.dirname(fileURLToPath(import.meta.url));
const SERVER_FILES = new Set([path.join("app", "api", "trpc", "[trpc]", "route.ts"), "env.ts"]);
const ANYWHERE = new Set(["@kanban/contract"]);

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return /\.(ts|tsx)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [full] : [];
  });
}

const IMPORT_RE = /^\s*(import|export)\s+(type\s+)?[^"']*?from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']/gm;

function imports(text: string): { spec: string; typeOnly: boolean; line: number }[] {
  return [...text.matchAll(IMPORT_RE)].map((m) => ({
    spec: m[3] ?? m[4] ?? "",
    typeOnly: m[2] !== undefined,
    line: text.slice(0, m.index).split("\n").length,
  }));
}

describe("apps/web boundaries", () => {
  const files = sources(SRC).map((f) => ({ rel: path.relative(SRC, f), text: fs.readFileSync(f, "utf8") }));

  it("runs @kanban/api only in server files; everything else imports its types only", () => {
    const bad = files.flatMap(({ rel, text }) =>
      imports(text)
        .filter((i) => i.spec.startsWith("@kanban/") && !i.typeOnly && !SERVER_FILES.has(rel) && !ANYWHERE.has(i.spec))
        .map((i) => `${rel}:${i.line} imports ${i.spec} at runtime`),
    );
    expect(bad).toEqual([]);
  });

  it("keeps server-only modules out of client components", () => {
    const serverOnly = ["node:", "fs", "path", "better-sqlite3", "@kanban/db", "@kanban/kernel", "child_process"];
    const bad = files
      .filter(({ text }) => /^["']use client["'];/m.test(text))
      .flatMap(({ rel, text }) =>
        imports(text)
          .filter(
            (i) =>
              !i.typeOnly && serverOnly.some((s) => i.spec === s || i.spec.startsWith(s.endsWith(":") ? s : `${s}/`)),
          )
          .map((i) => `${rel}:${i.line} imports ${i.spec}`),
      );
    expect(bad).toEqual([]);
  });

  it("has Next compile every workspace package it imports (they export TypeScript source)", () => {
    const transpiled = new Set(nextConfig.transpilePackages ?? []);
    const missing = files.flatMap(({ rel, text }) =>
      imports(text)
        .filter(
          (i) =>
            i.spec.startsWith("@kanban/") && !i.typeOnly && !transpiled.has(i.spec.split("/").slice(0, 2).join("/")),
        )
        .map((i) => `${rel}:${i.line} imports ${i.spec}, missing from next.config's transpilePackages`),
    );
    expect(missing).toEqual([]);
  });

  it("reads process.env only in env.ts", () => {
    const bad = files.filter(({ rel, text }) => rel !== "env.ts" && /process\.env/.test(text)).map(({ rel }) => rel);
    expect(bad).toEqual([]);
  });

  it("finds the imports it checks (the check itself works)", () => {
    const route = files.find((f) => f.rel.endsWith("route.ts"));
    expect(route && imports(route.text).map((i) => i.spec)).toContain("@kanban/api");
    expect(imports('import type { A } from "@kanban/api";\nimport { b } from "x";')).toEqual([
      { spec: "@kanban/api", typeOnly: true, line: 1 },
      { spec: "x", typeOnly: false, line: 2 },
    ]);
  });
});
