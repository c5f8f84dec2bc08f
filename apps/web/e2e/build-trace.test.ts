import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, WEB_DIR } from "./env.ts";

/**
 * The files Next traced into the API route's server bundle (the global setup made this build). A
 * filesystem call whose path the bundler cannot bound (`fs.readFileSync(variable)`) makes it trace
 * the whole project: the board's README, its e2e tests and fixtures then ship beside the server in
 * `.next/standalone`. Such calls in code the route imports carry `turbopackIgnore` comments
 * (packages/process/src/cgroup.ts, packages/workspace/src/paths.ts); this says none was missed.
 */
function tracedProjectFiles(): string[] {
  const dir = path.join(WEB_DIR, ".next", "server", "app", "api", "trpc", "[trpc]");
  const trace = JSON.parse(fs.readFileSync(path.join(dir, "route.js.nft.json"), "utf8")) as { files: string[] };
  return trace.files
    .map((f) => path.relative(REPO_ROOT, path.resolve(dir, f)))
    .filter((f) => !f.split(path.sep).includes("node_modules") && !f.startsWith(path.join("apps", "web", ".next")));
}

describe("the board's production build", () => {
  it("traces only what the API route runs, not the whole project", () => {
    const files = tracedProjectFiles();
    const stray = files.filter(
      (f) =>
        f.endsWith(".md") ||
        f.includes(`${path.sep}e2e${path.sep}`) ||
        /\.test\.tsx?$/.test(f) ||
        f.startsWith(`docs${path.sep}`),
    );
    expect(stray).toEqual([]);
    // What is left outside node_modules and the build's own chunks: a config file or two.
    expect(files.length).toBeLessThan(10);
  });
});
