import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Architecture test: db ← kernel ← api ← web/cli, dispatcher → kernel; process (no @kanban imports)
 * ← dispatcher, api. Fails with file:line of every import that crosses a boundary it must not cross.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

interface Rule {
  dir: string;
  /** Import specifiers (or prefixes ending in "/") that must not appear in non-test sources. */
  forbidden: string[];
  /** Source patterns that must not appear (for purity rules beyond imports). */
  forbiddenCode?: { pattern: RegExp; why: string; allowIn?: RegExp }[];
}

const UI = ["next", "next/", "react", "react/", "react-dom", "@trpc/", "@tanstack/"];
const SPAWN = ["child_process", "node:child_process"];
const RULES: Rule[] = [
  { dir: "packages/db", forbidden: [...UI, ...SPAWN, "@kanban/"] },
  // Process helpers sit beside the db at the bottom: both the dispatcher and the API use them.
  { dir: "packages/process", forbidden: [...UI, "@kanban/"] },
  {
    dir: "packages/kernel",
    forbidden: [...UI, ...SPAWN, "@kanban/api", "@kanban/dispatcher", "@kanban/cli", "@kanban/web", "drizzle-kit"],
    forbiddenCode: [
      { pattern: /process\.env/, why: "the kernel reads no configuration; values are passed in" },
      { pattern: /Date\.now\(\)|new Date\(\)/, why: "time comes from the injected clock", allowIn: /clock\.ts$/ },
      { pattern: /Math\.random\(/, why: "randomness comes from the injected id source", allowIn: /ids\.ts$/ },
    ],
  },
  {
    dir: "packages/dispatcher",
    forbidden: [...UI, "@kanban/api", "@kanban/cli", "@kanban/web"],
    // One door to the database: the dispatcher claims through Board.claimNext and reads through Board
    // methods; and its timestamps come from the injected clock.
    forbiddenCode: [
      { pattern: /\.prepare\(|\.stmt\(/, why: "prepares SQL: statements live in packages/kernel/src/store" },
      {
        pattern: /\bboard\.ctx\b|\.ctx\.(tx|stmt|tasks|getTask)\b/,
        why: "reaches the kernel's connection (board.ctx): call a Board method",
      },
      { pattern: /\.sqlite\b/, why: "reaches the raw SQLite handle: call a Board method" },
      {
        pattern: /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/,
        why: "holds SQL text: statements live in packages/kernel/src/store",
      },
      // pid-lock.ts compares with a file's mtime, which the file system dates by the wall clock.
      { pattern: /Date\.now\(\)|new Date\(\)/, why: "time comes from the injected clock", allowIn: /pid-lock\.ts$/ },
    ],
  },
  {
    dir: "packages/api",
    forbidden: ["next", "next/", "react", "react/", "@kanban/dispatcher", "@kanban/cli", "@kanban/web"],
    // One door to the database: the API calls Board methods; every statement lives in the kernel's store.
    forbiddenCode: [
      { pattern: /\.prepare\(|\.stmt\(/, why: "prepares SQL: statements live in packages/kernel/src/store" },
      {
        pattern: /\bboard\.ctx\b|\.ctx\.(tx|stmt|tasks|getTask)\b/,
        why: "reaches the kernel's connection (board.ctx): call a Board method",
      },
      { pattern: /\.sqlite\b/, why: "reaches the raw SQLite handle: call a Board method" },
      {
        pattern: /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/,
        why: "holds SQL text: statements live in packages/kernel/src/store",
      },
    ],
  },
  {
    dir: "apps/cli",
    forbidden: [
      ...UI.filter((u) => u !== "@trpc/"),
      "@kanban/db",
      "@kanban/kernel",
      "@kanban/dispatcher",
      "better-sqlite3",
      "drizzle-orm",
    ],
  },
  {
    dir: "apps/web",
    forbidden: ["@kanban/db", "@kanban/kernel", "@kanban/dispatcher", "better-sqlite3", "drizzle-orm", ...SPAWN],
  },
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === ".next" || entry.name.startsWith(".")) continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (
        /\.(ts|tsx|mts|mjs)$/.test(entry.name) &&
        !/\.test\.tsx?$/.test(entry.name) &&
        !full.includes(`${path.sep}test${path.sep}`)
      )
        out.push(full);
    }
  };
  for (const sub of ["src", "app", "bin", "components", "lib"]) walk(path.join(root, dir, sub));
  return out;
}

const IMPORT_RE =
  /(?:^|[^.\w])(?:import|export)\s*(?:type\s+)?(?:[\w*{}\s,]+\s+from\s+)?["']([^"']+)["']|(?:import|require)\(\s*["']([^"']+)["']\s*\)/g;

function importsOf(file: string): { spec: string; line: number; typeOnly: boolean }[] {
  const text = fs.readFileSync(file, "utf8");
  const out: { spec: string; line: number; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2];
    if (!spec) continue;
    const line = text.slice(0, m.index).split("\n").length;
    out.push({ spec, line, typeOnly: /^\s*(import|export)\s+type\s/.test(m[0].replace(/^[^ie]*/, "")) });
  }
  return out;
}

function matches(spec: string, rule: string): boolean {
  return rule.endsWith("/") ? spec.startsWith(rule) : spec === rule || spec.startsWith(`${rule}/`);
}

function packageName(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? spec);
}

/** `file:line what` for every forbidden import and forbidden code line of the rule's sources. */
function ruleViolations(rule: Rule): string[] {
  const violations: string[] = [];
  for (const file of sourceFiles(rule.dir)) {
    const rel = path.relative(root, file);
    for (const { spec, line } of importsOf(file)) {
      for (const bad of rule.forbidden) if (matches(spec, bad)) violations.push(`${rel}:${line} imports ${spec}`);
    }
    const text = fs.readFileSync(file, "utf8");
    for (const code of rule.forbiddenCode ?? []) {
      if (code.allowIn?.test(file)) continue;
      text.split("\n").forEach((l, i) => {
        if (code.pattern.test(l) && !/^(\/\/|\/\*|\*)/.test(l.trim())) {
          violations.push(`${rel}:${i + 1} ${code.why}`);
        }
      });
    }
  }
  return violations;
}

describe("layering", () => {
  for (const rule of RULES) {
    it(`${rule.dir} imports only what its layer allows`, () => {
      expect(ruleViolations(rule)).toEqual([]);
    });
  }

  it("every bare import is a declared dependency of its package (no reliance on hoisting)", () => {
    const violations: string[] = [];
    const builtins = new Set(builtinModules);
    for (const rule of RULES) {
      const pkgFile = path.join(root, rule.dir, "package.json");
      if (!fs.existsSync(pkgFile)) continue;
      const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8")) as Record<string, Record<string, string> | string>;
      const declared = new Set([
        pkg.name as string,
        ...Object.keys((pkg.dependencies as Record<string, string>) ?? {}),
        ...Object.keys((pkg.devDependencies as Record<string, string>) ?? {}),
        ...Object.keys((pkg.peerDependencies as Record<string, string>) ?? {}),
      ]);
      for (const file of sourceFiles(rule.dir)) {
        for (const { spec, line } of importsOf(file)) {
          if (
            spec.startsWith(".") ||
            spec.startsWith("node:") ||
            spec.startsWith("~/") ||
            spec.startsWith("@/") ||
            builtins.has(packageName(spec))
          )
            continue;
          if (!declared.has(packageName(spec)))
            violations.push(`${path.relative(root, file)}:${line} imports undeclared ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it("apps reach internal packages only through their public entry points", () => {
    const violations: string[] = [];
    for (const dir of [
      "apps/cli",
      "apps/web",
      "packages/api",
      "packages/dispatcher",
      "packages/kernel",
      "packages/process",
    ]) {
      for (const file of sourceFiles(dir)) {
        for (const { spec, line } of importsOf(file)) {
          if (!spec.startsWith("@kanban/")) continue;
          const name = packageName(spec);
          const sub = spec.slice(name.length);
          const pkgJson = path.join(root, "packages", name.replace("@kanban/", ""), "package.json");
          const exportsMap = fs.existsSync(pkgJson)
            ? ((JSON.parse(fs.readFileSync(pkgJson, "utf8")) as { exports?: Record<string, string> }).exports ?? {})
            : {};
          if (!(`.${sub}` in exportsMap)) violations.push(`${path.relative(root, file)}:${line} deep-imports ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  /** Writes `lines` as a probe source file in `dir`, returns what its rule reports for it (file:line) and removes it. */
  function probe(dir: string, lines: string[]): { found: string[]; rel: string } {
    const rel = path.join(dir, "src", "__arch_probe_sql__.ts");
    const tmp = path.join(root, rel);
    fs.writeFileSync(tmp, lines.join("\n"));
    try {
      const rule = RULES.find((r) => r.dir === dir);
      if (!rule) throw new Error(`no rule for ${dir}`);
      return { found: ruleViolations(rule).filter((v) => v.includes("__arch_probe_sql__")), rel };
    } finally {
      fs.rmSync(tmp);
    }
  }
  const SQL_PROBE = [
    'export const a = (board: any) => board.ctx.stmt("SELECT 1").get();',
    "export const b = (board: any) => board.sqlite.prepare('x');",
  ];
  const sqlFindings = (rel: string) => [
    `${rel}:1 prepares SQL: statements live in packages/kernel/src/store`,
    `${rel}:2 prepares SQL: statements live in packages/kernel/src/store`,
    `${rel}:1 reaches the kernel's connection (board.ctx): call a Board method`,
    `${rel}:2 reaches the raw SQLite handle: call a Board method`,
    `${rel}:1 holds SQL text: statements live in packages/kernel/src/store`,
    `${rel}:3 holds SQL text: statements live in packages/kernel/src/store`,
  ];

  it("catches SQL and connection access in packages/api (the one-door rule works)", () => {
    const { found, rel } = probe("packages/api", [
      ...SQL_PROBE,
      "export const c = `DELETE FROM tasks`;",
      "// SELECT in a comment is prose, not a statement",
    ]);
    expect(found).toEqual(sqlFindings(rel));
  });

  it("catches SQL, connection access and wall-clock time in packages/dispatcher (the one-door rule works)", () => {
    const { found, rel } = probe("packages/dispatcher", [
      ...SQL_PROBE,
      "export const c = `UPDATE tasks SET status = 'ready'`;",
      "export const d = Date.now();",
      "// SELECT in a comment is prose, not a statement",
    ]);
    expect(found).toEqual([...sqlFindings(rel), `${rel}:4 time comes from the injected clock`]);
  });

  it("catches a forbidden import (the check itself works)", () => {
    const tmp = path.join(root, "packages", "kernel", "src", "__arch_probe__.ts");
    fs.mkdirSync(path.dirname(tmp), { recursive: true });
    fs.writeFileSync(tmp, 'import { spawn } from "node:child_process";\nexport const x = process.env.X;\n');
    try {
      const found = importsOf(tmp).map((i) => i.spec);
      expect(found).toContain("node:child_process");
      expect(sourceFiles("packages/kernel")).toContain(tmp);
    } finally {
      fs.rmSync(tmp);
    }
  });
});
