// Whether the board's production build (apps/web/.next) is older than what it is made of. Shared by
// `npm test`'s prebuild (scripts/test.mjs) and the browser suite's global setup, which each rebuild
// a stale build rather than serve it.
import fs from "node:fs";
import path from "node:path";

/** Newest modification time under `p` (files only), skipping dependencies, build output and dot entries. */
export function newestUnder(p) {
  let stat;
  try {
    stat = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = 0;
  for (const entry of fs.readdirSync(p)) {
    if (entry === "node_modules" || entry === ".next" || entry.startsWith(".")) continue;
    max = Math.max(max, newestUnder(path.join(p, entry)));
  }
  return max;
}

/** Each workspace package's directory by its name (`@kanban/api` → `<root>/packages/api`). */
function workspacePackages(root) {
  const out = new Map();
  for (const group of ["apps", "packages"]) {
    const dir = path.join(root, group);
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir)) {
      const manifest = path.join(dir, entry, "package.json");
      if (!fs.existsSync(manifest)) continue;
      out.set(JSON.parse(fs.readFileSync(manifest, "utf8")).name, path.join(dir, entry));
    }
  }
  return out;
}

/**
 * What the build is made of: the board's own sources and configuration, and the sources (and
 * migrations) of every workspace package it depends on, directly or through another. Read from the
 * package manifests, so a package the API comes to import is watched without anyone listing it here.
 */
export function webBuildInputs(root) {
  const packages = workspacePackages(root);
  const web = path.join(root, "apps", "web");
  const inputs = ["src", "next.config.ts", "postcss.config.mjs", "package.json", "tsconfig.json"].map((p) =>
    path.join(web, p),
  );
  const seen = new Set();
  const visit = (dir) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })) {
      const dep = packages.get(name);
      if (dep === undefined || seen.has(name)) continue;
      seen.add(name);
      inputs.push(path.join(dep, "src"), path.join(dep, "package.json"));
      for (const extra of ["drizzle", "drizzle-pg"])
        if (fs.existsSync(path.join(dep, extra))) inputs.push(path.join(dep, extra));
      visit(dep);
    }
  };
  visit(web);
  return inputs;
}

/** Whether apps/web/.next is missing or older than any of {@link webBuildInputs}. */
export function webBuildIsStale(root) {
  const buildId = path.join(root, "apps", "web", ".next", "BUILD_ID");
  if (!fs.existsSync(buildId)) return true;
  const built = fs.statSync(buildId).mtimeMs;
  return webBuildInputs(root).some((p) => newestUnder(p) > built);
}
