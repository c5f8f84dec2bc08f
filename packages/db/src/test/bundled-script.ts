import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Helper processes of the tests (claimers, lock holders, seeders) as plain Node programs. Started
 * with `node --import tsx <file.ts>`, each start loaded every kernel module through tsx's loader
 * thread: ~1.8 CPU-s before its first line ran, ~30 CPU-s for a race of 16 claimers, on a 2-core CI
 * machine where CPU is the wall time. A bundle of the same sources (esbuild, ~0.3 s once per run)
 * starts in ~0.2 CPU-s.
 *
 * Bundles live in `<checkout>/node_modules/.cache/kanban-test-scripts/`: inside the checkout, so the
 * native modules left out of the bundle (better-sqlite3, …) resolve from its node_modules, and
 * `@kanban/db` finds its migrations beside the bundle's folder (symlinks, see migrations-folder.ts).
 * A bundle is rebuilt when any file it was built from changed size or modification time.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
const CACHE = path.join(ROOT, "node_modules", ".cache", "kanban-test-scripts");
/** Loaded from their own package at run time (compiled binaries), never bundled. */
const NATIVE = ["better-sqlite3", "fs-ext", "pg-native"];

/** What to bundle: a TypeScript (or JavaScript) file, or module source resolved from `resolveDir`. */
export type ScriptSource = { file: string } | { code: string; resolveDir: string };

interface Stamp {
  /** Every input of the bundle (relative to the checkout) with its size and mtime when it was built. */
  inputs: Record<string, [number, number]>;
}

const built = new Map<string, Promise<string>>();

/**
 * The path of an ES module bundle of `source` that `node <path> …` runs with no TypeScript loader.
 * Workspace packages are bundled from their sources (the `@kanban/source` condition), as tsx runs them.
 */
export function bundledScript(source: ScriptSource): Promise<string> {
  const key = "file" in source ? `file:${path.resolve(source.file)}` : `code:${source.resolveDir}\0${source.code}`;
  let out = built.get(key);
  if (out === undefined) {
    out = bundle(key, source);
    built.set(key, out);
    // A failed build is not remembered: the next caller tries again and sees its own error.
    out.catch(() => built.delete(key));
  }
  return out;
}

/** Forgets this process's answers, so the next ask checks the bundle's sources again (for tests). */
export function forgetBundles(): void {
  built.clear();
}

async function bundle(key: string, source: ScriptSource): Promise<string> {
  const name = crypto.createHash("sha256").update(key).digest("hex").slice(0, 24);
  const dir = path.join(CACHE, name);
  const script = path.join(dir, "bin", "script.mjs");
  if (fresh(dir) && fs.existsSync(script)) return script;
  const { build } = await import("esbuild");
  // Built beside the final folder and renamed into place, so that a process starting the bundle
  // never sees half of it (two test processes may build the same one at once: the last rename wins).
  const temp = `${dir}.${process.pid}.${crypto.randomBytes(4).toString("hex")}`;
  const entry =
    "file" in source
      ? { entryPoints: [path.resolve(source.file)] }
      : {
          stdin: {
            contents: source.code,
            resolveDir: source.resolveDir,
            loader: "ts" as const,
            sourcefile: "script.ts",
          },
        };
  try {
    const result = await build({
      ...entry,
      outfile: path.join(temp, "bin", "script.mjs"),
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      conditions: ["@kanban/source"],
      external: NATIVE,
      // Bundled CommonJS dependencies call require(); an ES module has none of its own.
      banner: {
        js: 'import { createRequire as __kanbanRequire } from "node:module"; const require = __kanbanRequire(import.meta.url);',
      },
      metafile: true,
      absWorkingDir: ROOT,
      logLevel: "error",
    });
    for (const folder of ["drizzle", "drizzle-pg"])
      fs.symlinkSync(path.join(ROOT, "packages", "db", folder), path.join(temp, folder), "dir");
    const inputs: Stamp["inputs"] = {};
    for (const input of Object.keys(result.metafile.inputs)) {
      const full = path.resolve(ROOT, input);
      if (!fs.existsSync(full)) continue; // stdin's own source
      const st = fs.statSync(full);
      inputs[path.relative(ROOT, full)] = [st.size, st.mtimeMs];
    }
    fs.writeFileSync(path.join(temp, "stamp.json"), JSON.stringify({ inputs } satisfies Stamp));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(temp, dir);
  } catch (err) {
    fs.rmSync(temp, { recursive: true, force: true });
    // Another process renamed the same bundle into place first: theirs serves.
    if (fresh(dir) && fs.existsSync(script)) return script;
    throw err;
  }
  return script;
}

/** Whether the bundle in `dir` was built from the files as they are now. */
function fresh(dir: string): boolean {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(path.join(dir, "stamp.json"), "utf8")) as Stamp;
  } catch {
    return false;
  }
  for (const [file, [size, mtime]] of Object.entries(stamp.inputs)) {
    try {
      const st = fs.statSync(path.join(ROOT, file));
      if (st.size !== size || st.mtimeMs !== mtime) return false;
    } catch {
      return false;
    }
  }
  return true;
}
