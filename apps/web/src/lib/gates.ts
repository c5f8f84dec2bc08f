// Completion gates on the board (issue 20): the words and small parsing the drawer's Gates section
// needs, kept pure so they are tested without a browser. The kernel checks every spec again; this
// only turns what a person typed into the shape it reads, and its answers into sentences.

export type GateStage = "commands" | "reviewer" | "approval";
export type GateScopeName = "card" | "profile" | "board";

/** What a card under test waits for, as one line for a person. */
export function stageLine(stage: GateStage, reviewer: string | null | undefined): string {
  switch (stage) {
    case "commands":
      return "Waiting for its acceptance commands";
    case "reviewer":
      return `Waiting for reviewer ${reviewer ?? "(the reviewer profile)"}`;
    default:
      return "Waiting for your approval";
  }
}

/**
 * Whether the drawer's Approve may be pressed on a card in review, and its tooltip. A card whose
 * round waits for its commands or its reviewer cannot be approved past them (the kernel refuses it).
 */
export function approveState(
  stage: GateStage | null | undefined,
  reviewer: string | null | undefined,
): { disabled: boolean; title: string } {
  if (stage === "commands")
    return { disabled: true, title: "Waiting for its acceptance commands: Approve is possible once they pass" };
  if (stage === "reviewer")
    return {
      disabled: true,
      title: `Waiting for reviewer ${reviewer ?? "(the reviewer profile)"}: Approve is possible once it approves`,
    };
  if (stage === "approval") return { disabled: false, title: "Approve the work: your approval is its last gate" };
  return { disabled: false, title: "Approve the work: the card becomes done" };
}

/** Where a card's gates come from. */
export function gateSourceLabel(scope: GateScopeName, key: string): string {
  if (scope === "card") return "set on this card";
  if (scope === "profile") return `the default of profile ${key}`;
  return "the board's default";
}

/**
 * Splits one command line into argv the way a person reads it: spaces separate arguments, single
 * or double quotes keep spaces in one, a backslash keeps the next character. No shell runs the
 * command, so nothing else is special. An unclosed quote is an error, not a guess.
 */
export function splitCommandLine(line: string): { argv: string[] } | { error: string } {
  const argv: string[] = [];
  let current = "";
  let inArg = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) current += line[++i];
      else current += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inArg = true;
    } else if (c === "\\" && i + 1 < line.length) {
      current += line[++i];
      inArg = true;
    } else if (c === " " || c === "\t") {
      if (inArg) argv.push(current);
      current = "";
      inArg = false;
    } else {
      current += c;
      inArg = true;
    }
  }
  if (quote !== null) return { error: `unclosed ${quote === '"' ? "double" : "single"} quote` };
  if (inArg) argv.push(current);
  return { argv };
}

/** The editor's commands, one per line (blank lines and `#` comments skipped), as argv lists. */
export function parseCommandsText(text: string): { commands: string[][] } | { error: string } {
  const commands: string[][] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const split = splitCommandLine(line);
    if ("error" in split) return { error: `line ${i + 1}: ${split.error}` };
    commands.push(split.argv);
  }
  return { commands };
}

/** One argument as it would be typed back into the editor. */
function quoteArg(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg)) return arg;
  return `"${arg.replace(/(["\\])/g, "\\$1")}"`;
}

/** The inverse of {@link parseCommandsText}: a spec's commands as editor lines. */
export function commandsText(commands: readonly { argv: readonly string[] }[]): string {
  return commands.map((c) => c.argv.map(quoteArg).join(" ")).join("\n");
}

/** A command result's evidence detail, read defensively (an older writer may lack a field). */
export interface CommandDetail {
  argv: string[];
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  duration_ms: number | null;
  error: string | null;
}

export function commandDetail(detail: Record<string, unknown> | null | undefined): CommandDetail {
  const d = detail ?? {};
  return {
    argv: Array.isArray(d.argv) ? d.argv.filter((a): a is string => typeof a === "string") : [],
    exit_code: typeof d.exit_code === "number" ? d.exit_code : null,
    signal: typeof d.signal === "string" ? d.signal : null,
    timed_out: d.timed_out === true,
    duration_ms: typeof d.duration_ms === "number" ? d.duration_ms : null,
    error: typeof d.error === "string" ? d.error : null,
  };
}

/** How a command ended: "exit 0", "timed out", "killed by SIGKILL", "could not start: …". */
export function commandEnding(d: CommandDetail): string {
  if (d.error !== null) return `could not start: ${d.error}`;
  if (d.timed_out) return "timed out";
  if (d.signal !== null) return `killed by ${d.signal}`;
  if (d.exit_code !== null) return `exit ${d.exit_code}`;
  return "no exit code";
}

/** A run's length: "850 ms", "12.4 s", "3 min 5 s". */
export function durationLabel(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

export interface ChangedFile {
  path: string;
  status: string;
}

/** A change item's detail: its base and files, read defensively. */
export function changeDetail(detail: Record<string, unknown> | null | undefined): {
  base: string | null;
  files: ChangedFile[];
  truncated: boolean;
} {
  const d = detail ?? {};
  const files: ChangedFile[] = [];
  if (Array.isArray(d.files))
    for (const f of d.files)
      if (typeof f === "object" && f !== null && typeof (f as ChangedFile).path === "string")
        files.push({ path: (f as ChangedFile).path, status: String((f as ChangedFile).status ?? "?") });
  return { base: typeof d.base === "string" ? d.base : null, files, truncated: d.truncated === true };
}

const FILE_STATUS: Record<string, string> = {
  A: "added",
  M: "modified",
  D: "deleted",
  R: "renamed",
  C: "copied",
  T: "type changed",
  U: "unmerged",
};

/** `git diff --name-status`'s letter (R100 and the like included) as a word. */
export function fileStatusWord(status: string): string {
  return FILE_STATUS[status.charAt(0).toUpperCase()] ?? status;
}

const LANGUAGES: Record<string, string> = {
  ts: "typescript",
  mts: "typescript",
  cts: "typescript",
  tsx: "tsx",
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  jsx: "jsx",
  json: "json",
  css: "css",
  md: "markdown",
  py: "python",
  sh: "bash",
  bash: "bash",
  yml: "yaml",
  yaml: "yaml",
  go: "go",
  rs: "rust",
  sql: "sql",
};

/** The highlighting language of a file, from its extension; null when none is known (plain text). */
export function languageOf(path: string): string | null {
  const name = path.split("/").at(-1) ?? "";
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return null;
  return LANGUAGES[name.slice(dot + 1).toLowerCase()] ?? null;
}

/** A file's diff is shown folded past this many lines (the person opens it). */
export const DIFF_FOLD_LINES = 120;

/** Whether a file's diff of `lines` lines starts folded, so one long file does not bury the others. */
export function startsFolded(lines: number): boolean {
  return lines > DIFF_FOLD_LINES;
}

/** The words the events timeline shows for the gate kinds. */
export const GATE_EVENT_LABELS: Record<string, string> = {
  gates_set: "Gates set",
  verification_started: "Verification started",
  gate_passed: "Gate passed",
  gate_failed: "Gate failed",
  approval_requested: "Approval requested",
};

function names(v: unknown): string {
  return Array.isArray(v) ? v.filter((x) => typeof x === "string").join(", ") : "";
}

/** One line for a gate event's payload, or null for other kinds. */
export function gateEventLine(kind: string, payload: Record<string, unknown> | null | undefined): string | null {
  const p = payload ?? {};
  const stage = typeof p.stage === "string" ? p.stage : null;
  switch (kind) {
    case "gates_set": {
      const list = names(p.gates);
      return list ? `gates: ${list}` : "gates cleared (or none on the card)";
    }
    case "verification_started":
      return `round ${String(p.round ?? "?")} under test${stage ? `, first ${stage}` : ""}${names(p.gates) ? ` (${names(p.gates)})` : ""}`;
    case "gate_passed":
      return `${String(p.gate ?? "a gate")} passed${stage === "done" ? "; the card is done" : stage ? `; next ${stage}` : ""}`;
    case "gate_failed":
      return `${String(p.gate ?? "a gate")} failed${names(p.failed) ? `: ${names(p.failed)}` : ""}${typeof p.status === "string" ? `; back to ${p.status}` : ""}`;
    case "approval_requested":
      return `round ${String(p.round ?? "?")} passed its other gates and waits for a person's approval`;
    default:
      return null;
  }
}
