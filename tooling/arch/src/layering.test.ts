import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Architecture test: db ← kernel ← api ← web/cli, dispatcher → kernel; process (no @kanban imports but the contract)
 * ← dispatcher, api; workspace → kernel/db, used by api and dispatcher; contract (constants, imports
 * nothing) under everyone. Fails with file:line of every import that crosses a boundary it must not
 * cross, and of every line that reaches the database outside the kernel's store.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

interface Rule {
  dir: string;
  /** Import specifiers (or prefixes ending in "/"; "*": any but the package's own files) that must not appear in non-test sources. */
  forbidden: string[];
  /** Source patterns that must not appear (for purity rules beyond imports). */
  forbiddenCode?: { pattern: RegExp; why: string; allowIn?: RegExp }[];
  /** Imports a forbidden rule lets through in some files only (spec pattern, file pattern). */
  allowImports?: { spec: RegExp; inFile: RegExp }[];
}

const UI = ["next", "next/", "react", "react/", "react-dom", "@trpc/", "@tanstack/"];
const SPAWN = ["child_process", "node:child_process"];
/** Every workspace package but @kanban/contract, which any package may import. */
const KANBAN = [
  "@kanban/db",
  "@kanban/kernel",
  "@kanban/workspace",
  "@kanban/process",
  "@kanban/notify",
  "@kanban/dispatcher",
  "@kanban/api",
  "@kanban/cli",
  "@kanban/web",
];
/** The @kanban packages a layer must not import: every one but `allowed` (the contract is always allowed). */
const only = (...allowed: string[]) => KANBAN.filter((k) => !allowed.includes(k));

/** SQL statement text, on one line or opening a multi-line string. */
const SQL_TEXT = /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|(^\s*|[`"']\s*)UPDATE \w+\s*$/;
/**
 * One door to the database: outside the kernel nothing prepares SQL, reaches the kernel's connection
 * or holds a statement; it calls Board methods, and every statement lives in packages/kernel/src/store.
 */
const ONE_DOOR: NonNullable<Rule["forbiddenCode"]> = [
  { pattern: /\.prepare\(|\.stmt\(/, why: "prepares SQL: statements live in packages/kernel/src/store" },
  {
    pattern: /\bboard\.ctx\b|\.ctx\.(tx|stmt|tasks|getTask)\b/,
    why: "reaches the kernel's connection (board.ctx): call a Board method",
  },
  { pattern: /\.sqlite\b/, why: "reaches the raw SQLite handle: call a Board method" },
  { pattern: SQL_TEXT, why: "holds SQL text: statements live in packages/kernel/src/store" },
];
/** Inside the kernel, verbs decide and store/sqlite/ talks SQL: no statement text or query call in a verb. */
// coordination/: the dispatchers' advisory locks, NOTIFY and status rows on PostgreSQL (issue 14),
// SQL that belongs to no verb and no board transaction.
// testing/ is `@kanban/kernel/testing`, the sanctioned way for tests to seed and check rows (never
// part of the package's main entry point); its raw SQL is the tests' own.
const KERNEL_STORE = /(^|\/)(store|coordination|testing)\//;
const KERNEL_SQL: NonNullable<Rule["forbiddenCode"]> = [
  {
    pattern: /\.prepare\(|\.stmt\(/,
    why: "prepares SQL outside the store: add a function to packages/kernel/src/store/sqlite",
    allowIn: KERNEL_STORE,
  },
  {
    pattern: /\.tasks?\(\s*[`"']/,
    why: "queries tasks with SQL outside the store: add a function to packages/kernel/src/store/sqlite",
    allowIn: KERNEL_STORE,
  },
  {
    pattern: SQL_TEXT,
    why: "holds SQL text outside the store: add a function to packages/kernel/src/store/sqlite",
    allowIn: KERNEL_STORE,
  },
];

const RULES: Rule[] = [
  // The shared vocabulary: constants only, so the browser, the CLI and the db may all import it.
  // outbox.ts (a subpath export the browser never loads) is shared by the CLI and the dispatcher and
  // writes files: Node built-ins there only.
  {
    dir: "packages/contract",
    forbidden: ["*"],
    allowImports: [{ spec: /^node:/, inFile: /packages\/contract\/src\/outbox\.ts$/ }],
  },
  { dir: "packages/db", forbidden: [...UI, ...SPAWN, ...only()] },
  // Process helpers sit beside the db at the bottom: both the dispatcher and the API use them.
  { dir: "packages/process", forbidden: [...UI, ...only()] },
  // Notification channels (issue 17): HTTP senders on Node built-ins, shared by the dispatcher and the API.
  { dir: "packages/notify", forbidden: [...UI, ...SPAWN, ...only()] },
  {
    dir: "packages/kernel",
    forbidden: [...UI, ...SPAWN, ...only("@kanban/db"), "drizzle-kit"],
    forbiddenCode: [
      { pattern: /process\.env/, why: "the kernel reads no configuration; values are passed in" },
      { pattern: /Date\.now\(\)|new Date\(\)/, why: "time comes from the injected clock", allowIn: /clock\.ts$/ },
      { pattern: /Math\.random\(/, why: "randomness comes from the injected id source", allowIn: /ids\.ts$/ },
      ...KERNEL_SQL,
    ],
  },
  // One rule to materialise a claimed task's workspace, shared by the API's claim and the dispatcher.
  {
    dir: "packages/workspace",
    forbidden: [...UI, ...only("@kanban/db", "@kanban/kernel")],
    forbiddenCode: ONE_DOOR,
  },
  {
    dir: "packages/dispatcher",
    forbidden: [
      ...UI,
      ...only("@kanban/db", "@kanban/kernel", "@kanban/process", "@kanban/workspace", "@kanban/notify"),
    ],
    // One door to the database, and timestamps from the injected clock.
    forbiddenCode: [
      ...ONE_DOOR,
      // pid-lock.ts compares with a file's mtime, which the file system dates by the wall clock.
      { pattern: /Date\.now\(\)|new Date\(\)/, why: "time comes from the injected clock", allowIn: /pid-lock\.ts$/ },
    ],
  },
  {
    dir: "packages/api",
    forbidden: [
      "next",
      "next/",
      "react",
      "react/",
      ...only("@kanban/db", "@kanban/kernel", "@kanban/process", "@kanban/workspace", "@kanban/notify"),
    ],
    forbiddenCode: ONE_DOOR,
  },
  {
    dir: "apps/cli",
    forbidden: [
      ...UI.filter((u) => u !== "@trpc/"),
      ...only("@kanban/api", "@kanban/cli"),
      "better-sqlite3",
      "drizzle-orm",
    ],
    forbiddenCode: ONE_DOOR,
  },
  {
    dir: "apps/web",
    forbidden: [...only("@kanban/api", "@kanban/web"), "better-sqlite3", "drizzle-orm", ...SPAWN],
    forbiddenCode: ONE_DOOR,
  },
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      // dist/: the packages' build output (their declarations end in .ts too).
      if (["node_modules", ".next", "dist"].includes(entry.name) || entry.name.startsWith(".")) continue;
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
    // The match may start with the newline before the import: count lines from the keyword itself.
    const line = text.slice(0, m.index + m[0].search(/import|export|require/)).split("\n").length;
    out.push({ spec, line, typeOnly: /^\s*(import|export)\s+type\s/.test(m[0].replace(/^[^ie]*/, "")) });
  }
  return out;
}

function matches(spec: string, rule: string): boolean {
  if (rule === "*") return !spec.startsWith(".");
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
      if (rule.allowImports?.some((a) => a.spec.test(spec) && a.inFile.test(rel))) continue;
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

/** Every file under `dir` (tests included), without node_modules, build output or dot folders. */
function allFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (["node_modules", ".next", "dist"].includes(e.name) || e.name.startsWith(".")) return [];
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return allFiles(full);
    return /\.(ts|tsx|mts|mjs)$/.test(e.name) ? [full] : [];
  });
}

/** A literal list of these quoted words in this order (a copy of a constant), across lines. */
function quotedList(words: string[]): RegExp {
  return new RegExp(words.map((w) => `["'\`]${w}["'\`]`).join("\\s*,\\s*"), "g");
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
      "packages/workspace",
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

  it("nothing outside the kernel names BoardContext (the kernel's connection is not public)", () => {
    const outside = [
      ...["packages", "apps", "tooling"].flatMap((top) =>
        fs.readdirSync(path.join(root, top)).map((name) => path.join(top, name)),
      ),
    ].filter((dir) => dir !== "packages/kernel" && dir !== "tooling/arch");
    const found = outside.flatMap((dir) =>
      allFiles(path.join(root, dir)).flatMap((file) =>
        fs
          .readFileSync(file, "utf8")
          .split("\n")
          .flatMap((l, i) => (/\bBoardContext\b/.test(l) ? [`${path.relative(root, file)}:${i + 1}`] : [])),
      ),
    );
    expect(found).toEqual([]);
    expect(fs.readFileSync(path.join(root, "packages/kernel/src/index.ts"), "utf8")).not.toMatch(/\bBoardContext\b/);
  });

  it("no product source reaches a board's connection through boardInternals (tests and the bench only)", () => {
    // `Board.ctx` is private to TypeScript only; boardInternals is the one sanctioned way around it, and
    // it lives in @kanban/kernel/testing so that only tests and benchmarks use it.
    const found = RULES.map((r) => r.dir)
      .filter((dir) => dir !== "packages/kernel")
      .flatMap((dir) =>
        sourceFiles(dir).flatMap((file) =>
          fs
            .readFileSync(file, "utf8")
            .split("\n")
            .flatMap((l, i) => (/\bboardInternals\b/.test(l) ? [`${path.relative(root, file)}:${i + 1}`] : [])),
        ),
      );
    expect(found).toEqual([]);
    // The probe: the rule sees a use where one is (the bench is allowed, and does use it).
    expect(sourceFiles("tooling/bench").some((f) => /\bboardInternals\b/.test(fs.readFileSync(f, "utf8")))).toBe(true);
  });

  it("no package keeps its own copy of the shared vocabulary (it lives in @kanban/contract)", () => {
    const copies: { what: string; pattern: RegExp }[] = [
      { what: "the status or column list", pattern: quotedList(["triage", "todo", "scheduled", "ready", "running"]) },
      { what: "the workspace kinds", pattern: quotedList(["scratch", "worktree", "dir"]) },
      {
        what: "the hallucination event kinds",
        pattern: quotedList(["completion_blocked_hallucination", "suspected_hallucinated_references"]),
      },
    ];
    const found = [...RULES.map((r) => r.dir), "tooling/reliability", "tooling/bench"]
      .filter((dir) => dir !== "packages/contract")
      .flatMap((dir) =>
        sourceFiles(dir).flatMap((file) => {
          const text = fs.readFileSync(file, "utf8");
          return copies.flatMap(({ what, pattern }) =>
            [...text.matchAll(pattern)].map(
              (m) => `${path.relative(root, file)}:${text.slice(0, m.index).split("\n").length} copies ${what}`,
            ),
          );
        }),
      );
    expect(found).toEqual([]);
  });

  /** Writes `lines` as a probe source file in `dir`, returns what its rule reports for it (file:line) and removes it. */
  function probe(dir: string, lines: string[], sub = "src"): { found: string[]; rel: string } {
    const rel = path.join(dir, sub, "__arch_probe_sql__.ts");
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

  it.each(["apps/cli", "apps/web", "packages/workspace"])(
    "catches SQL and connection access in %s (the one-door rule works)",
    (dir) => {
      const { found, rel } = probe(dir, [
        ...SQL_PROBE,
        "export const c = `UPDATE tasks",
        "     SET status = 'ready'`;",
        "export const d = `",
        "  UPDATE tasks",
        "     SET status = 'ready'`;",
        " * INSERT INTO in a doc comment is prose",
      ]);
      expect(found).toEqual([
        ...sqlFindings(rel),
        `${rel}:6 holds SQL text: statements live in packages/kernel/src/store`,
      ]);
    },
  );

  it("catches SQL in a kernel verb, and allows it in the kernel's store (verbs decide, store/sqlite talks SQL)", () => {
    const verb = [
      'export const a = (ctx: any) => ctx.stmt("SELECT 1").get();',
      "export const b = (ctx: any) => ctx.sqlite.prepare('x');",
      "export const c = (ctx: any) => ctx.tasks(`SELECT * FROM tasks`);",
      'export const d = (ctx: any) => ctx.task("SELECT * FROM tasks WHERE id = ?", 1);',
      "export const e = `DELETE FROM task_links WHERE parent_id = ?`;",
      "export const f = (ctx: any, sql: string) => ctx.tasks(sql);",
      "// UPDATE tasks SET in a comment is prose",
    ];
    const why = (what: string) => `${what}: add a function to packages/kernel/src/store/sqlite`;
    const { found, rel } = probe("packages/kernel", verb);
    expect(found).toEqual([
      `${rel}:1 ${why("prepares SQL outside the store")}`,
      `${rel}:2 ${why("prepares SQL outside the store")}`,
      `${rel}:3 ${why("queries tasks with SQL outside the store")}`,
      `${rel}:4 ${why("queries tasks with SQL outside the store")}`,
      `${rel}:1 ${why("holds SQL text outside the store")}`,
      `${rel}:3 ${why("holds SQL text outside the store")}`,
      `${rel}:4 ${why("holds SQL text outside the store")}`,
      `${rel}:5 ${why("holds SQL text outside the store")}`,
    ]);
    expect(probe("packages/kernel", verb, path.join("src", "store", "sqlite")).found).toEqual([]);
  });

  it("catches any import in packages/contract, but not its own files (it imports nothing)", () => {
    const { found, rel } = probe("packages/contract", [
      'import fs from "node:fs";',
      'import { z } from "zod";',
      'export * from "./statuses.ts";',
      'import type { Board } from "@kanban/kernel";',
    ]);
    expect(found).toEqual([`${rel}:1 imports node:fs`, `${rel}:2 imports zod`, `${rel}:4 imports @kanban/kernel`]);
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
