import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { webBuildInputs, webBuildIsStale } from "../../../scripts/web-build.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const temps: string[] = [];

afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A workspace of its own: apps/web depends on @kanban/a, which depends on @kanban/b; @kanban/c is unrelated. */
function workspace(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "web-build-"));
  temps.push(root);
  const pkg = (dir: string, name: string, deps: string[]) => {
    fs.mkdirSync(path.join(root, dir, "src"), { recursive: true });
    fs.writeFileSync(path.join(root, dir, "src", "index.ts"), "export {};\n");
    const dependencies = Object.fromEntries(deps.map((d) => [d, "*"]));
    fs.writeFileSync(path.join(root, dir, "package.json"), JSON.stringify({ name, dependencies }));
  };
  pkg("apps/web", "@kanban/web", ["@kanban/a", "react"]);
  pkg("packages/a", "@kanban/a", ["@kanban/b"]);
  pkg("packages/b", "@kanban/b", []);
  pkg("packages/c", "@kanban/c", []);
  fs.mkdirSync(path.join(root, "apps", "web", ".next"));
  return root;
}

/** Sets a file's modification time `seconds` from now (the build's BUILD_ID is compared against it). */
function touch(file: string, seconds: number): void {
  const at = new Date(Date.now() + seconds * 1000);
  fs.utimesSync(file, at, at);
}

describe("the board's build staleness (scripts/web-build.mjs)", () => {
  it("watches every workspace package the board depends on, through the API, and no other", () => {
    const inputs = webBuildInputs(ROOT).map((p) => path.relative(ROOT, p));
    for (const name of ["api", "kernel", "db", "contract", "notify", "process", "workspace"])
      expect(inputs).toContain(path.join("packages", name, "src"));
    expect(inputs).toContain(path.join("packages", "db", "drizzle"));
    expect(inputs).toContain(path.join("apps", "web", "src"));
    // The dispatcher runs in a process of its own; the board's server never loads it.
    expect(inputs).not.toContain(path.join("packages", "dispatcher", "src"));
  });

  it("a build is stale once a source of a package it reaches only through another changed", () => {
    const root = workspace();
    const buildId = path.join(root, "apps", "web", ".next", "BUILD_ID");
    expect(webBuildIsStale(root)).toBe(true);
    fs.writeFileSync(buildId, "id\n");
    for (const dir of ["apps/web", "packages/a", "packages/b", "packages/c"])
      touch(path.join(root, dir, "src", "index.ts"), -60);
    touch(buildId, 0);
    expect(webBuildIsStale(root)).toBe(false);
    // A package the board does not depend on: still fresh.
    touch(path.join(root, "packages", "c", "src", "index.ts"), 60);
    expect(webBuildIsStale(root)).toBe(false);
    // One it reaches through @kanban/a: stale.
    touch(path.join(root, "packages", "b", "src", "index.ts"), 60);
    expect(webBuildIsStale(root)).toBe(true);
  });
});
