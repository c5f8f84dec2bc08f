import type { BoardContext } from "./context.ts";
import { invalid, notFound } from "./errors.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import {
  deleteGate,
  type GateRow,
  type GateScope,
  gateCandidates,
  gateRows,
  upsertGate,
  type VerificationStage,
  verificationRow,
} from "./store/sqlite/gates.ts";
import { getTask } from "./store/sqlite/tasks.ts";
import { tenantScope } from "./tenant-scope.ts";
import type { Task } from "./types.ts";

// Completion gates (issue 20): what must pass before a card is done. A card, its implementer's
// profile or the board may carry a gate spec; the most specific one wins whole. When the implementer
// reports completion, the card does not become done: it waits in `review` while its gates run in a
// fixed order — the acceptance commands (run by the dispatcher in the card's workspace), then an
// independent reviewer profile (the review lane spawns it), then a person's approval. A failing gate
// sends the card back to its implementer with the evidence as a comment, and counts as a failure of
// class `gate_failed` towards the breaker; the last passing gate makes the card done. What each gate
// found is kept as evidence on the card, round by round (a round is the completion under test).

export type { GateScope, VerificationStage };

export const GATE_SCOPES = ["card", "profile", "board"] as const satisfies readonly GateScope[];
/** The key of the board's own gates. */
export const BOARD_GATE_KEY = "*";

export const GATE_LIMITS = {
  commands: 10,
  argv: 64,
  arg_chars: 4096,
  min_timeout_seconds: 1,
  max_timeout_seconds: 3600,
  default_timeout_seconds: 600,
  /** What a command's evidence keeps of its output: the end, where test runners put their verdict. */
  output_tail_chars: 8000,
  /** The largest diff kept on a card; a longer one is cut and says so. */
  diff_chars: 400_000,
  files: 2000,
} as const;

export interface GateCommand {
  name: string;
  argv: string[];
  timeout_seconds: number;
}

export interface GateSpec {
  commands: GateCommand[];
  /** A reviewer profile that must approve (the review lane spawns it), or null. */
  reviewer: string | null;
  /** Whether a person must approve last. */
  approval: boolean;
}

export interface GateView {
  scope: GateScope;
  key: string;
  spec: GateSpec;
  updated_at: number;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9 ._:/-]{0,63}$/;
const PROFILE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks a gate spec given by a caller and fills its defaults; one readable error for the first fault. */
export function parseGateSpec(raw: unknown): GateSpec {
  if (!isRecord(raw)) throw invalid("gates must be an object {commands, reviewer, approval}");
  for (const key of Object.keys(raw)) {
    if (!["commands", "reviewer", "approval"].includes(key))
      throw invalid(`unknown gate '${key.slice(0, 40)}' (gates are commands, reviewer and approval)`);
  }
  const commandsRaw = raw.commands ?? [];
  if (!Array.isArray(commandsRaw)) throw invalid("gates.commands must be a list of commands");
  if (commandsRaw.length > GATE_LIMITS.commands)
    throw invalid(`at most ${GATE_LIMITS.commands} acceptance commands per card`);
  const commands: GateCommand[] = [];
  for (const [i, c] of commandsRaw.entries()) {
    const entry = Array.isArray(c) ? { argv: c } : c;
    if (!isRecord(entry))
      throw invalid(`acceptance command ${i + 1} must be an argv list or {name, argv, timeout_seconds}`);
    const argv = entry.argv;
    if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== "string"))
      throw invalid(`acceptance command ${i + 1}: argv must be a non-empty list of strings (no shell is used)`);
    if (argv.length > GATE_LIMITS.argv)
      throw invalid(`acceptance command ${i + 1}: at most ${GATE_LIMITS.argv} arguments`);
    if (argv.some((a) => a.length > GATE_LIMITS.arg_chars || a.includes("\0")))
      throw invalid(
        `acceptance command ${i + 1}: an argument is longer than ${GATE_LIMITS.arg_chars} characters or holds a NUL`,
      );
    if ((argv[0] as string).trim() === "") throw invalid(`acceptance command ${i + 1}: the program name is empty`);
    const name = entry.name === undefined || entry.name === null ? nameOfArgv(argv as string[]) : entry.name;
    if (typeof name !== "string" || !NAME_RE.test(name))
      throw invalid(`acceptance command ${i + 1}: name must be 1-64 letters, digits, spaces or ._:/- characters`);
    if (commands.some((other) => other.name === name)) throw invalid(`two acceptance commands are named '${name}'`);
    const timeoutRaw = entry.timeout_seconds ?? GATE_LIMITS.default_timeout_seconds;
    const timeout = Number(timeoutRaw);
    if (
      !Number.isInteger(timeout) ||
      timeout < GATE_LIMITS.min_timeout_seconds ||
      timeout > GATE_LIMITS.max_timeout_seconds
    )
      throw invalid(
        `acceptance command '${name}': timeout_seconds must be a whole number from ${GATE_LIMITS.min_timeout_seconds} to ${GATE_LIMITS.max_timeout_seconds}`,
      );
    commands.push({ name, argv: [...(argv as string[])], timeout_seconds: timeout });
  }
  let reviewer: string | null = null;
  if (raw.reviewer !== undefined && raw.reviewer !== null) {
    if (typeof raw.reviewer !== "string" || !PROFILE_RE.test(raw.reviewer.trim()))
      throw invalid("gates.reviewer must be a profile name (letters, digits and ._-)");
    reviewer = raw.reviewer.trim();
  }
  if (raw.approval !== undefined && typeof raw.approval !== "boolean")
    throw invalid("gates.approval must be true or false");
  return { commands, reviewer, approval: raw.approval === true };
}

/** A command given without a name is named after its words, with what a name may not hold made a dash. */
function nameOfArgv(argv: string[]): string {
  const words = argv
    .join(" ")
    .replace(/[^A-Za-z0-9 ._:/-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64)
    .trim();
  return words === "" ? "command" : words;
}

function specEmpty(spec: GateSpec): boolean {
  return spec.commands.length === 0 && spec.reviewer === null && !spec.approval;
}

function readSpec(row: GateRow): GateSpec {
  try {
    return parseGateSpec(JSON.parse(row.spec));
  } catch {
    // A row no build of ours wrote: gate the card on a person rather than let it through unchecked.
    return { commands: [], reviewer: null, approval: true };
  }
}

function view(row: GateRow): GateView {
  return { scope: row.scope, key: row.scope_key, spec: readSpec(row), updated_at: row.updated_at };
}

async function checkScope(
  ctx: BoardContext,
  scope: GateScope,
  key: string,
  tenant: string | null | undefined,
): Promise<string> {
  if (!GATE_SCOPES.includes(scope))
    throw invalid(`gate scope must be card, profile or board, got '${String(scope).slice(0, 40)}'`);
  const owner = tenantScope(tenant);
  if (owner !== null && scope !== "card") throw invalid("a tenant sets gates on its own cards only");
  if (scope === "board") return BOARD_GATE_KEY;
  const k = String(key ?? "").trim();
  if (scope === "profile") {
    if (!PROFILE_RE.test(k)) throw invalid("a profile gate needs a profile name (letters, digits and ._-)");
    return k;
  }
  const task = await getTask(ctx, k);
  if (!task || (owner !== null && task.tenant !== owner)) throw notFound(`task ${k} not found`, { task_id: k });
  return k;
}

/**
 * Puts a gate spec on a card, a profile (its cards' default) or the board (every card's default). On
 * a card an empty spec is kept: it opts the card out of its profile's and the board's gates.
 */
export async function setGates(
  ctx: BoardContext,
  scope: GateScope,
  key: string,
  raw: unknown,
  opts: { tenant?: string | null } = {},
): Promise<GateView> {
  const spec = parseGateSpec(raw);
  return await ctx.tx(async () => {
    const k = await checkScope(ctx, scope, key, opts.tenant);
    if (scope !== "card" && specEmpty(spec)) throw invalid(`an empty ${scope} gate means nothing: clear it instead`);
    const now = ctx.now();
    await upsertGate(ctx, { scope, scope_key: k, spec: JSON.stringify(spec), now });
    if (scope === "card") await appendEvent(ctx, k, "gates_set", { gates: describeSpec(spec) });
    return { scope, key: k, spec, updated_at: now };
  });
}

/** Removes a gate spec; false when there was none. */
export async function clearGates(
  ctx: BoardContext,
  scope: GateScope,
  key: string,
  opts: { tenant?: string | null } = {},
): Promise<boolean> {
  return await ctx.tx(async () => {
    const k = await checkScope(ctx, scope, key, opts.tenant);
    const removed = await deleteGate(ctx, scope, k);
    if (removed && scope === "card") await appendEvent(ctx, k, "gates_set", { gates: [] });
    return removed;
  });
}

/** Every gate spec (a tenant: only those on its own cards). */
export async function listGates(ctx: BoardContext, opts: { tenant?: string | null } = {}): Promise<GateView[]> {
  const owner = tenantScope(opts.tenant);
  const rows = await gateRows(ctx);
  const out: GateView[] = [];
  for (const row of rows) {
    if (owner !== null) {
      if (row.scope !== "card") continue;
      const task = await getTask(ctx, row.scope_key);
      if (task?.tenant !== owner) continue;
    }
    out.push(view(row));
  }
  return out;
}

/** The gates a card must pass and where they come from (`implementer`'s profile); null when none apply. */
export async function gatesFor(
  ctx: BoardContext,
  task: Pick<Task, "id" | "assignee">,
  implementer: string | null = task.assignee,
): Promise<GateView | null> {
  return pickGates(await gateCandidates(ctx, task.id, task.assignee), implementer);
}

function pickGates(rows: GateRow[], implementer: string | null): GateView | null {
  let best: GateRow | null = null;
  let bestRank = 9;
  for (const row of rows) {
    const rank = row.scope === "card" ? 0 : row.scope === "profile" ? (row.scope_key === implementer ? 1 : 9) : 2;
    if (rank < bestRank) {
      best = row;
      bestRank = rank;
    }
  }
  if (best === null) return null;
  const v = view(best);
  return specEmpty(v.spec) ? null : v;
}

/**
 * The gates of a card being completed, for completeTask's hot path: one read when no gate row can
 * apply (the usual board); the round under test is read only when one may.
 */
export async function gatesOfCompletion(
  ctx: BoardContext,
  head: Pick<Task, "id" | "assignee" | "status">,
): Promise<GateView | null> {
  const rows = await gateCandidates(ctx, head.id, head.assignee);
  if (rows.length === 0) return null;
  let implementer = head.assignee;
  if (head.status === "review" || head.status === "running") {
    const v = await verificationRow(ctx, head.id);
    if (v !== null && v.implementer !== null) implementer = v.implementer;
  }
  return pickGates(rows, implementer);
}

/** Short names of a spec's gates, in the order they run (`command:<name>`, `reviewer:<profile>`, `approval`). */
export function describeSpec(spec: GateSpec): string[] {
  return [
    ...spec.commands.map((c) => `command:${c.name}`),
    ...(spec.reviewer !== null ? [`reviewer:${spec.reviewer}`] : []),
    ...(spec.approval ? ["approval"] : []),
  ];
}

/** The first stage the spec still needs after `passed` (gate kinds), or null when every gate passed. */
export function nextStage(spec: GateSpec, passed: ReadonlySet<string>): VerificationStage | null {
  if (spec.commands.length > 0 && !passed.has("command")) return "commands";
  if (spec.reviewer !== null && !passed.has("reviewer")) return "reviewer";
  if (spec.approval && !passed.has("approval")) return "approval";
  return null;
}
