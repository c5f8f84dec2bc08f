import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { bundledScript, forgetBundles } from "./bundled-script.ts";
import { useTempDirs } from "./temp-dirs.ts";

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tempDir = useTempDirs("bundled-script");
/** Bundle folders this file made (each test's sources are new, so are their bundles): removed after each test. */
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function bundle(source: Parameters<typeof bundledScript>[0]): Promise<string> {
  const script = await bundledScript(source);
  made.push(path.dirname(path.dirname(script)));
  return script;
}

/** Runs a bundle with plain node: no TypeScript loader, no export conditions. */
function run(script: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [script, ...args], {
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr };
}

describe("bundledScript", () => {
  it("runs TypeScript that opens a board file on plain node: native modules load, migrations are found", async () => {
    const file = path.join(tempDir(), "kanban.db");
    const script = await bundle({
      code: `import { openDatabase } from "./connection.ts";
        const db = openDatabase({ path: process.argv[2] as string, warn: () => {} });
        const n = (db.sqlite.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n;
        db.close();
        console.log(JSON.stringify({ migrations: n }));`,
      resolveDir: src,
    });
    expect(script.endsWith(".mjs")).toBe(true);
    const r = run(script, file);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const committed = fs.readdirSync(path.join(src, "..", "drizzle")).filter((f) => f.endsWith(".sql")).length;
    expect(JSON.parse(r.out)).toEqual({ migrations: committed });
  });

  it("builds a file once, and again when it (or a file it imports) changes", async () => {
    const dir = tempDir();
    const entry = path.join(dir, "entry.ts");
    const helper = path.join(dir, "helper.ts");
    fs.writeFileSync(helper, `export const word: string = "first";\n`);
    fs.writeFileSync(entry, `import { word } from "./helper.ts";\nconsole.log(word);\n`);
    const script = await bundle({ file: entry });
    expect(run(script).out).toBe("first");
    const builtAt = fs.statSync(script).mtimeMs;

    // Asked again (this process, or another with its own memo): the same bundle, not rebuilt.
    expect(await bundledScript({ file: entry })).toBe(script);
    expect(fs.statSync(script).mtimeMs).toBe(builtAt);

    // An imported file changed: the next process to ask rebuilds it. (This process remembers its
    // answer: a test file's helpers do not change while it runs.)
    fs.writeFileSync(helper, `export const word: string = "second, longer";\n`);
    forgetBundles();
    const again = await bundledScript({ file: entry });
    expect(again).toBe(script);
    expect(run(again).out).toBe("second, longer");
  });

  it("a source that does not build is an error naming the problem, and nothing is left behind", async () => {
    const entry = path.join(tempDir(), "broken.ts");
    fs.writeFileSync(entry, `import { nothing } from "./missing.ts";\nconsole.log(nothing);\n`);
    await expect(bundledScript({ file: entry })).rejects.toThrow(/missing\.ts/);
    const cache = path.join(src, "..", "..", "..", "node_modules", ".cache", "kanban-test-scripts");
    // Temporary build folders are named `<bundle>.<pid>.<random>` (other processes may be building theirs).
    const leftovers = fs.existsSync(cache) ? fs.readdirSync(cache).filter((d) => d.includes(`.${process.pid}.`)) : [];
    expect(leftovers).toEqual([]);
  });
});
