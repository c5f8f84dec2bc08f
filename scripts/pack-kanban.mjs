#!/usr/bin/env node
// Packs the installable `kanban` product: `node scripts/pack-kanban.mjs [<destination dir>]` writes
// kanban-<version>.tgz, which `npm install -g <tarball>` turns into the `kanban` command with every
// verb, `kanban start` (board, API and dispatcher), `kanban serve` and `kanban dispatcher`.
// The package is the built runtime (scripts/build-runtime.mjs: esbuild bundles with every workspace
// package inlined, and the board's Next standalone tree with the node_modules it traced) and has
// no dependencies to fetch: the native modules it needs (better-sqlite3, fs-ext) travel inside it,
// compiled by this machine's install, so the tarball is for this platform and Node major version.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ensureRuntime, ROOT, RUNTIME } from "./build-runtime.mjs";

const NATIVE = ["better-sqlite3", "bindings", "file-uri-to-path", "fs-ext"];

/** Builds what changed, stages the package in dist/kanban-package and packs it; returns the tarball's path. */
export async function packKanban(destination, { log = console.log } = {}) {
  await ensureRuntime({ log });
  const stage = path.join(ROOT, "dist", "kanban-package");
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(path.join(stage, "bin"), { recursive: true });
  // Next links its external modules (.next/node_modules/<name>-<hash> → node_modules/<name>); npm pack
  // drops symbolic links, so they are copied as what they point at.
  fs.cpSync(RUNTIME, path.join(stage, "runtime"), {
    recursive: true,
    dereference: true,
    filter: (src) => path.basename(src) !== "stamp.json",
  });
  // The bundles resolve their native modules from runtime/node_modules (the copies Next traced).
  for (const name of NATIVE) {
    fs.cpSync(path.join(RUNTIME, "web", "node_modules", name), path.join(stage, "runtime", "node_modules", name), {
      recursive: true,
    });
  }
  const bins = { kanban: "kanban.js", "kanban-dispatcher": "dispatcher.js" };
  for (const [name, target] of Object.entries(bins)) {
    fs.writeFileSync(
      path.join(stage, "bin", `${name}.mjs`),
      `#!/usr/bin/env node\nimport "../runtime/bin/${target}";\n`,
      { mode: 0o755 },
    );
  }
  const cli = JSON.parse(fs.readFileSync(path.join(ROOT, "apps", "cli", "package.json"), "utf8"));
  const manifest = {
    name: "kanban",
    version: cli.version,
    description: "A durable task board for fleets of AI agents: board, API, dispatcher and the kanban CLI",
    type: "module",
    bin: Object.fromEntries(Object.keys(bins).map((name) => [name, `bin/${name}.mjs`])),
    files: ["bin", "runtime"],
    engines: { node: `>=${process.versions.node.split(".")[0]} <${Number(process.versions.node.split(".")[0]) + 1}` },
    os: [process.platform],
    cpu: [process.arch],
    license: "MIT",
  };
  fs.writeFileSync(path.join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.mkdirSync(destination, { recursive: true });
  const r = spawnSync("npm", ["pack", "--json", "--pack-destination", destination], { cwd: stage, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npm pack failed:\n${r.stderr}`);
  const [packed] = JSON.parse(r.stdout);
  return path.join(destination, packed.filename);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    console.log(await packKanban(path.resolve(process.argv[2] ?? path.join(ROOT, "dist"))));
  } catch (err) {
    console.error(`kanban: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
