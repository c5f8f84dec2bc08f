import type { RouterOutputs } from "@kanban/api/client";
import type { Command } from "commander";
import { boardArg, type Deps } from "../deps.ts";
import { CliFailure, errorCode, errorData, UsageError } from "../errors.ts";
import { formatTime, table, toJson } from "../output.ts";
import { collect, intArg } from "./parse.ts";
import type { Register } from "./register.ts";

// `kanban gates set|clear|show|list` (issue 20): what must pass before a card is done. The kernel
// checks every spec and words its faults; this file only turns flags into a spec and answers into text.
//
// The board's own gates are named with `--board-wide`, not `--board`: `--board <slug>` is the global
// option that picks the board, and commander reads it anywhere on the line.

type CardGates = RouterOutputs["gates"]["card"];
type GateView = RouterOutputs["gates"]["list"]["gates"][number];
type Stage = "commands" | "reviewer" | "approval";

/** What a card waiting at `stage` waits for, in a person's words. */
export function stageText(stage: string): string {
  if (stage === "commands") return "its acceptance commands (the dispatcher runs them in its workspace)";
  if (stage === "reviewer") return "its reviewer (the review lane spawns the reviewer profile)";
  if (stage === "approval") return "a person's approval (kanban review approve, or Approve on the board)";
  return stage;
}

/** The line `kanban complete` and `kanban review approve` print for a completion that did not make the card done. */
export function gatedLine(id: string, stage: string): string {
  return `${id} waits in review at its ${stage} gate: next, ${stageText(stage)}`;
}

const OPERATORS = new Set(["|", "||", "&", "&&", ";", ";;", ">", ">>", "<", "<<", "2>", "2>&1", "&>"]);

/**
 * Splits `--run` text into words the way a shell would quote them, without a shell: whitespace
 * separates, '…' keeps everything, "…" keeps everything but \" and \\, a backslash outside quotes
 * escapes the next character. Nothing is expanded, so a bare shell operator is refused rather than
 * passed on as an argument the author did not mean.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quotedOp = false;
  const push = () => {
    if (!inWord) return;
    if (!quotedOp && OPERATORS.has(cur))
      throw new UsageError(
        `--run uses no shell, so '${cur}' would be a plain argument: give each command its own --run, or --command '["sh","-c","…"]'`,
      );
    words.push(cur);
    cur = "";
    inWord = false;
    quotedOp = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === " " || ch === "\t" || ch === "\n") {
      push();
    } else if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`--run has an unclosed ' quote: ${text}`);
      cur += text.slice(i + 1, end);
      inWord = true;
      quotedOp = true;
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && (text[j + 1] === '"' || text[j + 1] === "\\")) j++;
        cur += text[j];
      }
      if (j >= text.length) throw new UsageError(`--run has an unclosed " quote: ${text}`);
      inWord = true;
      quotedOp = true;
      i = j;
    } else if (ch === "\\" && i + 1 < text.length) {
      cur += text[i + 1];
      inWord = true;
      quotedOp = true;
      i++;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  push();
  return words;
}

/**
 * A name for a command given without one: its words, with what the board does not allow in a name
 * (quotes, `=`, …) turned into `-`. The kernel's own default would refuse `--reporter=dot`.
 */
export function commandName(argv: readonly string[]): string {
  const text = argv
    .join(" ")
    .replace(/[^A-Za-z0-9 ._:/-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64)
    .trim();
  return text === "" ? "command" : text;
}

export interface SetOptions {
  command?: string[];
  run?: string[];
  timeout?: number;
  reviewer?: string;
  approval?: boolean;
  none?: boolean;
  boardWide?: boolean;
  profile?: string;
  json?: boolean;
}

interface Target {
  scope: "card" | "profile" | "board";
  key: string | null;
}

function targetOf(verb: string, id: string | undefined, opts: { boardWide?: boolean; profile?: string }): Target {
  const given = [id !== undefined, opts.boardWide === true, opts.profile !== undefined].filter(Boolean).length;
  if (given !== 1)
    throw new UsageError(
      `gates ${verb} takes one of: a task id, --board-wide (every card's default) or --profile <name>`,
    );
  if (opts.boardWide) return { scope: "board", key: null };
  if (opts.profile !== undefined) return { scope: "profile", key: opts.profile };
  return { scope: "card", key: id as string };
}

function targetText(t: Target): string {
  if (t.scope === "board") return "the board (every card's default)";
  if (t.scope === "profile") return `profile ${t.key} (its cards' default)`;
  return t.key as string;
}

/** The spec `gates set` sends, from its flags. */
export function specOf(opts: SetOptions): Record<string, unknown> {
  const commands: Record<string, unknown>[] = [];
  for (const raw of opts.command ?? []) {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw new UsageError(`--command takes the argv as a JSON array, e.g. --command '["npm","test"]'; got ${raw}`);
    }
    if (Array.isArray(v)) {
      const argv = v.map((a) => (typeof a === "string" ? a : JSON.stringify(a)));
      commands.push({ name: commandName(argv), argv });
    } else if (typeof v === "object" && v !== null) {
      // The whole form, as the API takes it: {name, argv, timeout_seconds}.
      const o = v as Record<string, unknown>;
      commands.push({ ...o, name: o.name ?? (Array.isArray(o.argv) ? commandName(o.argv.map(String)) : undefined) });
    } else {
      throw new UsageError(`--command takes the argv as a JSON array, e.g. --command '["npm","test"]'; got ${raw}`);
    }
  }
  for (const text of opts.run ?? []) {
    const argv = splitWords(text);
    if (argv.length === 0) throw new UsageError("--run needs a command line, e.g. --run 'npm test'");
    commands.push({ name: commandName(argv), argv });
  }
  if (opts.timeout !== undefined) {
    if (commands.length === 0) throw new UsageError("--timeout goes with --command or --run");
    for (const c of commands) if (c.timeout_seconds === undefined) c.timeout_seconds = opts.timeout;
  }
  const some = commands.length > 0 || opts.reviewer !== undefined || opts.approval === true;
  if (opts.none) {
    if (some) throw new UsageError("--none is a card with no gates at all: give it without other gates");
    return { commands: [], reviewer: null, approval: false };
  }
  if (!some) throw new UsageError("say which gates: --command/--run, --reviewer <profile>, --approval (or --none)");
  return { commands, reviewer: opts.reviewer ?? null, approval: opts.approval === true };
}

/** The gates of a spec, one per line, in the order they run. */
function specLines(spec: GateView["spec"]): string[] {
  const out: string[] = [];
  let n = 1;
  for (const c of spec.commands) {
    const argv = c.argv.map((a) => (/^[A-Za-z0-9._:/=@%+,-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
    out.push(`${n++}. command ${c.name}: ${argv} (timeout ${c.timeout_seconds}s)`);
  }
  if (spec.reviewer !== null) out.push(`${n++}. reviewer ${spec.reviewer} approves`);
  if (spec.approval) out.push(`${n++}. a person approves`);
  return out;
}

function specSummary(spec: GateView["spec"]): string {
  const parts: string[] = [];
  if (spec.commands.length > 0) parts.push(spec.commands.map((c) => `command ${c.name}`).join(", "));
  if (spec.reviewer !== null) parts.push(`reviewer ${spec.reviewer}`);
  if (spec.approval) parts.push("approval");
  return parts.length === 0 ? "none (opted out)" : parts.join(", ");
}

function originText(g: GateView): string {
  if (g.scope === "card") return "set on this card";
  if (g.scope === "profile") return `profile ${g.key}'s default`;
  return "the board's default";
}

/** Turns a kernel refusal (a bad spec, an unknown card) into the command's one line. */
async function refused<T>(verb: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // A value the wire schema refused is a usage error (exit 2); main words it.
    if (errorData(err)?.zodError) throw err;
    const c = errorCode(err);
    if (c === "NOT_FOUND") throw new CliFailure(`cannot ${verb} gates of ${what} (unknown id)`);
    if (c !== null && err instanceof Error)
      throw new CliFailure(`cannot ${verb} gates of ${what}: ${err.message.split("\n")[0]}`);
    throw err;
  }
}

export async function runGatesSet(deps: Deps, id: string | undefined, opts: SetOptions): Promise<number> {
  const target = targetOf("set", id, opts);
  const spec = specOf(opts);
  const client = await deps.client();
  const res = await refused("set", targetText(target), () =>
    client.gates.set.mutate({ ...boardArg(deps), scope: target.scope, key: target.key, spec }),
  );
  if (opts.json) {
    deps.io.out(toJson(res));
    return 0;
  }
  const lines = specLines(res.gates.spec);
  if (lines.length === 0) deps.io.out(`${targetText(target)}: no gates (it opts out of its profile's and the board's)`);
  else {
    deps.io.out(`Gates of ${targetText(target)}:`);
    for (const l of lines) deps.io.out(`  ${l}`);
  }
  return 0;
}

export async function runGatesClear(
  deps: Deps,
  id: string | undefined,
  opts: { boardWide?: boolean; profile?: string; json?: boolean },
): Promise<number> {
  const target = targetOf("clear", id, opts);
  const client = await deps.client();
  const res = await refused("clear", targetText(target), () =>
    client.gates.clear.mutate({ ...boardArg(deps), scope: target.scope, key: target.key }),
  );
  if (opts.json) deps.io.out(toJson(res));
  else
    deps.io.out(
      res.removed ? `Cleared the gates of ${targetText(target)}` : `${targetText(target)} had no gates of its own`,
    );
  return 0;
}

export async function runGatesList(deps: Deps, opts: { json?: boolean }): Promise<number> {
  const client = await deps.client();
  const { gates } = await client.gates.list.query({ ...boardArg(deps) });
  if (opts.json) {
    deps.io.out(toJson({ gates }));
    return 0;
  }
  if (gates.length === 0) {
    deps.io.out("(no gates: put some on a card with kanban gates set <task_id> --run '<command>')");
    return 0;
  }
  const rows = [["SCOPE", "KEY", "GATES", "UPDATED"]];
  for (const g of gates) rows.push([g.scope, g.key, specSummary(g.spec), formatTime(g.updated_at)]);
  for (const line of table(rows)) deps.io.out(line);
  return 0;
}

/** The last `n` lines of a command's output, indented under it. */
function tailLines(body: string, n: number): string[] {
  const lines = body.replace(/\s+$/, "").split("\n");
  return lines.slice(-n).map((l) => `      | ${l}`);
}

function itemLine(item: CardGates["rounds"][number]["items"][number]): string {
  const d = item.detail ?? {};
  if (item.gate === "command") {
    const how =
      d.timed_out === true
        ? "timed out"
        : typeof d.signal === "string"
          ? `killed by ${d.signal}`
          : d.exit_code !== null && d.exit_code !== undefined
            ? `exit ${d.exit_code}`
            : typeof d.error === "string"
              ? `could not start: ${d.error}`
              : "no exit code";
    const secs = typeof d.duration_ms === "number" ? `, ${(d.duration_ms / 1000).toFixed(1)}s` : "";
    return `command ${item.name}: ${item.outcome} (${how}${secs})`;
  }
  if (item.gate === "change") {
    const files = Array.isArray(d.files) ? d.files.length : 0;
    return `change ${item.name}: ${files} file${files === 1 ? "" : "s"}${d.truncated === true ? " (diff cut)" : ""}`;
  }
  const why = typeof d.reason === "string" ? `: ${d.reason}` : typeof d.summary === "string" ? `: ${d.summary}` : "";
  return `${item.gate} ${item.name}: ${item.outcome}${why.split("\n")[0]}`;
}

export async function runGatesShow(
  deps: Deps,
  id: string,
  opts: { diff?: boolean; json?: boolean; rounds?: number },
): Promise<number> {
  if (opts.rounds !== undefined && opts.rounds > 50) throw new UsageError("--rounds takes 1 to 50");
  const client = await deps.client();
  const card = await refused("show", id, () =>
    client.gates.card.query({ ...boardArg(deps), id, rounds: opts.rounds ?? null }),
  );
  if (opts.diff) {
    const change = card.rounds.flatMap((r) => r.items).find((i) => i.gate === "change");
    if (change === undefined)
      throw new CliFailure(`${id} has no kept diff (only worktree and git dir workspaces keep one)`);
    if (opts.json) deps.io.out(toJson(change));
    else deps.io.out((change.body ?? "").replace(/\n$/, ""));
    return 0;
  }
  if (opts.json) {
    deps.io.out(toJson({ task_id: id, ...card }));
    return 0;
  }
  if (card.gates === null) deps.io.out(`${id} has no gates: completing it makes it done.`);
  else {
    deps.io.out(`Gates of ${id} (${originText(card.gates)}):`);
    for (const l of specLines(card.gates.spec)) deps.io.out(`  ${l}`);
  }
  if (card.verification !== null) {
    const v = card.verification;
    deps.io.out(
      `Waiting at: ${v.stage} (round ${v.round}, since ${formatTime(v.started_at)}) — next, ${stageText(v.stage as Stage)}`,
    );
  }
  for (const r of card.rounds) {
    deps.io.out(`Round ${r.round}:`);
    for (const item of r.items) {
      deps.io.out(`  ${itemLine(item)}`);
      if (item.gate === "command" && item.body) for (const l of tailLines(item.body, 15)) deps.io.out(l);
      if (item.gate === "change" && Array.isArray(item.detail?.files)) {
        const files = item.detail.files as { path?: string; status?: string }[];
        for (const f of files.slice(0, 20)) deps.io.out(`      ${f.status ?? "?"} ${f.path ?? ""}`);
        if (files.length > 20) deps.io.out(`      … ${files.length - 20} more (kanban gates show ${id} --diff)`);
      }
    }
  }
  return 0;
}

export const registerGates: Register = (program: Command, act) => {
  const gates = program
    .command("gates")
    .summary("completion gates: what must pass before a card is done (set, clear, show, list)")
    .description(
      "A card, a profile or the board may carry gates: acceptance commands (argv, no shell, run by the dispatcher in the " +
        "card's workspace), a reviewer profile, a person's approval. A completed gated card waits in review while they " +
        "run in that order; a failing command sends it back to its implementer with a GATE FAILED comment. The most " +
        "specific spec wins whole: the card's, else its implementer's profile's, else the board's.",
    );
  gates
    .command("list", { isDefault: true })
    .summary("every gate spec on the board")
    .option("--json", "print the answer as JSON")
    .action(act((deps, opts: { json?: boolean }) => runGatesList(deps, opts)));
  gates
    .command("set")
    .summary("put gates on a card, a profile or the board (replaces what was there)")
    .argument("[task_id]", "the card (or --board-wide / --profile <name>)")
    .option(
      "--command <json>",
      'an acceptance command as a JSON argv array, e.g. \'["npm","test"]\' (repeatable)',
      collect,
    )
    .option(
      "--run <words>",
      "an acceptance command as words, quoted like a shell but run without one (repeatable; after the --command ones)",
      collect,
    )
    .option("--timeout <seconds>", "each command's time limit (default 600)", intArg(1))
    .option("--reviewer <profile>", "a reviewer profile must approve")
    .option("--approval", "a person must approve last")
    .option("--none", "no gates on this card, not even its profile's or the board's")
    .option("--board-wide", "the board's gates: every card's default")
    .option("--profile <name>", "a profile's gates: the default of the cards it implements")
    .option("--json", "print the answer as JSON")
    .action(act((deps, id: string | undefined, opts: SetOptions) => runGatesSet(deps, id, opts)));
  gates
    .command("clear")
    .summary("remove the gates of a card, a profile or the board")
    .argument("[task_id]", "the card (or --board-wide / --profile <name>)")
    .option("--board-wide", "the board's gates")
    .option("--profile <name>", "a profile's gates")
    .option("--json", "print the answer as JSON")
    .action(
      act((deps, id: string | undefined, opts: { boardWide?: boolean; profile?: string; json?: boolean }) =>
        runGatesClear(deps, id, opts),
      ),
    );
  gates
    .command("show")
    .summary("a card's gates, where they come from, the stage it waits at and each round's evidence")
    .argument("<task_id>")
    .option("--diff", "print the newest kept diff (against the workspace's base) instead")
    .option("--rounds <n>", "how many recent rounds (default 5)", intArg(1))
    .option("--json", "print the answer as JSON")
    .action(
      act((deps, id: string, opts: { diff?: boolean; json?: boolean; rounds?: number }) =>
        runGatesShow(deps, id, opts),
      ),
    );
};
