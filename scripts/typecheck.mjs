#!/usr/bin/env node
// `npm run typecheck` (and the type check of `npm test`): the whole monorepo in two TypeScript
// programs instead of one per workspace. The workspaces import each other's sources, so checking
// them one by one type-checked the kernel and the database layer again inside every package that
// uses them (13 programs, ~260 s on CI); one program checks each file once.
//   node:        every workspace that runs on Node alone (tooling/tsconfig/check-node.json)
//   web:         apps/web, after `next typegen` (Next's route types; its DOM lib and its ProcessEnv)
// Web stays apart: Next's declarations change Node's types (NODE_ENV becomes required). The
// reliability suite, once a third program for the DOM globals of the functions it evaluates in a
// browser (one file, which now declares the few it uses), is in the node program: a program of its own
// checked the kernel, the API and the database layer again (~13 CPU-s).
// A workspace with a tsconfig.json that neither covers fails the check, so a new package
// cannot go unchecked. Each workspace's own `npm run typecheck` still works, for one package at a time.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
const next = path.join(root, "node_modules", "next", "dist", "bin", "next");

// Workspaces in the node program: keep in step with tooling/tsconfig/check-node.json.
const nodeProgram = ["packages/*", "apps/cli", "tooling/arch", "tooling/bench", "tooling/pack", "tooling/reliability"];
const separate = ["apps/web"];

const covered = (dir) =>
  [...nodeProgram, ...separate].some((p) => (p.endsWith("/*") ? path.dirname(dir) === p.slice(0, -2) : dir === p));
const unchecked = ["packages", "apps", "tooling"]
  .flatMap((d) => (fs.existsSync(path.join(root, d)) ? fs.readdirSync(path.join(root, d)).map((n) => `${d}/${n}`) : []))
  .filter((dir) => fs.existsSync(path.join(root, dir, "tsconfig.json")) && !covered(dir));

function run(label, cmd, args, cwd = root) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cmd, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("close", (code) => {
      if (code !== 0) process.stdout.write(`typecheck ${label} failed:\n${out}`);
      resolve(code === 0);
    });
  });
}

const results = await Promise.all([
  run("node", tsc, ["--noEmit", "-p", "tooling/tsconfig/check-node.json"]),
  (async () =>
    (await run("web (next typegen)", next, ["typegen"], path.join(root, "apps", "web"))) &&
    (await run("web", tsc, ["--noEmit", "-p", "apps/web"])))(),
]);
for (const dir of unchecked)
  console.log(`typecheck: ${dir} has a tsconfig.json that no program covers (scripts/typecheck.mjs)`);
const ok = results.every(Boolean) && unchecked.length === 0;
console.log(ok ? "typecheck: ok" : "typecheck: failed");
process.exit(ok ? 0 : 1);
