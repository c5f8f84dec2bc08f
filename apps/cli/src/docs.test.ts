import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "./program.ts";

/**
 * Docs cannot drift from the CLI: every `kanban …` command line in the skills and READMEs (fenced
 * code blocks and inline code) must name a registered verb path with options that verb accepts.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function markdownFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith(".md")) out.push(full);
    }
  };
  walk(path.join(repo, "skills"));
  walk(path.join(repo, "docs"));
  for (const readme of ["README.md", "apps/cli/README.md"])
    if (fs.existsSync(path.join(repo, readme))) out.push(path.join(repo, readme));
  return out;
}

/** Command lines: `kanban …` lines of fenced blocks and `kanban …` inline code spans. */
export function commandLines(markdown: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const raw of markdown.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("```")) {
      fenced = !fenced;
      continue;
    }
    if (fenced) {
      // `kanban …` or `npx kanban …`, also inside `$( … )`, loops and pipelines.
      const cmd = line.replace(/^\$\s+/, "").replace(/\s+#.*$/, "");
      for (const m of cmd.matchAll(/(?:^|\$\(|;|&&|\bdo)\s*(?:npx\s+)?(kanban\s[^)|;&]+)/g))
        if (m[1]) lines.push(m[1].trim());
      continue;
    }
    for (const m of line.matchAll(/`(?:npx\s+)?(kanban\s[^`]+)`/g)) if (m[1]) lines.push(m[1]);
  }
  return lines;
}

/** Shell-like words (quotes grouped, not interpreted further). */
function words(line: string): string[] {
  return [...line.matchAll(/"[^"]*"|'[^']*'|\S+/g)].map((m) => m[0]);
}

/** Why a command line does not match the program, or null when it does. */
export function checkLine(program: Command, line: string): string | null {
  const tokens = words(line).slice(1);
  // commander answers --help and --version itself (they are not in program.options).
  const global = new Set([...program.options.map((o) => o.long ?? ""), "--help", "--version"]);
  let cmd: Command = program;
  const verbPath: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i] ?? "";
    if (t.startsWith("-")) {
      if (cmd !== program) break;
      if (!global.has(t.split("=")[0] ?? "")) return `unknown global option ${t}`;
      i += t.includes("=") ? 1 : 2;
      continue;
    }
    if (cmd !== program && cmd.commands.length === 0) break;
    const sub = cmd.commands.find((c) => c.name() === t || c.aliases().includes(t));
    if (!sub) return `unknown command '${[...verbPath, t].join(" ")}'`;
    cmd = sub;
    verbPath.push(t);
    i++;
  }
  if (cmd === program) return tokens.some((t) => t === "--help" || t === "--version") ? null : "no verb";
  if (cmd.commands.length > 0) return `'${verbPath.join(" ")}' needs a subcommand`;
  const known = new Set([...cmd.options.map((o) => o.long ?? ""), ...global, "--help"]);
  for (const t of tokens.slice(i)) {
    if (!t.startsWith("--")) continue;
    const flag = t.split("=")[0] ?? t;
    if (!known.has(flag)) return `'${verbPath.join(" ")}' has no option ${flag}`;
  }
  return null;
}

const program = buildProgram(() => async () => {}, { out: () => {}, err: () => {} });

describe("docs drift", () => {
  const files = markdownFiles();

  it("finds the skills and their command lines", () => {
    const all = files.flatMap((f) => commandLines(fs.readFileSync(f, "utf8")));
    expect(files.some((f) => f.endsWith(path.join("kanban-worker", "SKILL.md")))).toBe(true);
    expect(files.some((f) => f.endsWith(path.join("kanban-orchestrator", "SKILL.md")))).toBe(true);
    expect(all.length).toBeGreaterThan(15);
  });

  for (const file of files) {
    it(`every kanban command in ${path.relative(repo, file)} exists with its flags`, () => {
      const problems = commandLines(fs.readFileSync(file, "utf8"))
        .map((line) => [line, checkLine(program, line)] as const)
        .filter(([, why]) => why !== null)
        .map(([line, why]) => `${line}  →  ${why}`);
      expect(problems).toEqual([]);
    });
  }

  it("catches a drifted verb, subcommand or flag", () => {
    expect(checkLine(program, 'kanban create "x" --assignee a --parent t_1')).toBeNull();
    expect(checkLine(program, "kanban --board ops boards list --all")).toBeNull();
    expect(checkLine(program, 'kanban reclaim <id> --reason "…"')).toBeNull();
    expect(checkLine(program, "kanban recl <id>")).toBe("unknown command 'recl'");
    expect(checkLine(program, "kanban boards")).toBe("'boards' needs a subcommand");
    expect(checkLine(program, "kanban boards frob")).toBe("unknown command 'boards frob'");
    expect(checkLine(program, "kanban complete t_1 --summry x")).toBe("'complete' has no option --summry");
    expect(commandLines("text `kanban show <id>` and\n```sh\nkanban list --json  # all\n```\n`kanban_show()`")).toEqual(
      ["kanban show <id>", "kanban list --json"],
    );
  });
});
