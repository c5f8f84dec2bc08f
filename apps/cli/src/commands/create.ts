import type { Command } from "commander";
import { boardArg, type Deps } from "../deps.ts";
import { UsageError } from "../errors.ts";
import { taskDict, toJson } from "../output.ts";
import { branchArg, choiceArg, collect, durationArg, intArg, workspaceArg } from "./parse.ts";
import type { Register } from "./register.ts";

export interface CreateOptions {
  body?: string;
  assignee?: string;
  parent?: string[];
  workspace?: string;
  branch?: string;
  tenant?: string;
  priority?: number;
  triage?: boolean;
  idempotencyKey?: string;
  maxRuntime?: number;
  createdBy?: string;
  skill?: string[];
  maxRetries?: number;
  model?: string;
  initialStatus?: "running" | "blocked";
  requires?: string[];
  json?: boolean;
}

/**
 * `--requires macos,xcode` (repeatable; the lists add up): the labels a host must have to claim the
 * task. `--requires ""` is the empty list (for `kanban edit`: no requirement any more). The board
 * checks each label; here they are only split and trimmed.
 */
export function requiresArg(value: string, previous: string[] | undefined): string[] {
  const labels = value
    .split(",")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return [...(previous ?? []), ...labels.filter((l) => !(previous ?? []).includes(l))];
}

/**
 * `kanban create`. A worker creating follow-ups is attributed to its profile, so its
 * `created_cards` claim verifies; everyone else is "user" unless `--created-by` says otherwise.
 */
export async function runCreate(deps: Deps, title: string, opts: CreateOptions): Promise<number> {
  if (title.trim() === "") throw new UsageError("title must not be empty");
  if (opts.branch !== undefined && !(opts.workspace ?? "").startsWith("worktree")) {
    throw new UsageError("--branch only applies to --workspace worktree");
  }
  const c = deps.config;
  const client = await deps.client();
  const res = await client.tasks.create.mutate({
    ...boardArg(deps),
    title,
    body: opts.body ?? null,
    assignee: opts.assignee ?? null,
    parents: opts.parent ?? [],
    workspace: opts.workspace ?? null,
    branch_name: opts.branch ?? null,
    tenant: opts.tenant ?? c.tenant,
    priority: opts.priority ?? 0,
    triage: opts.triage ?? false,
    idempotency_key: opts.idempotencyKey ?? null,
    max_runtime_seconds: opts.maxRuntime ?? null,
    created_by: opts.createdBy ?? (c.task !== null ? (c.profile ?? "worker") : "user"),
    skills: opts.skill ?? null,
    max_retries: opts.maxRetries ?? null,
    model_override: opts.model ?? null,
    initial_status: opts.initialStatus ?? null,
    session_id: c.sessionId,
    ...(opts.requires !== undefined ? { requires: opts.requires } : {}),
  });
  const task = res.task;
  if (opts.json) {
    deps.io.out(toJson(taskDict(task)));
    return 0;
  }
  const requires = (task as { requires?: string[] }).requires ?? [];
  deps.io.out(
    `Created ${task.id}  (${task.status}, assignee=${task.assignee ?? "-"}${requires.length > 0 ? `, requires=${requires.join(",")}` : ""})`,
  );
  if ("warning" in res && typeof res.warning === "string") deps.io.err(`⚠ ${res.warning}`);
  return 0;
}

export const registerCreate: Register = (program: Command, act) => {
  program
    .command("create")
    .summary("create a task")
    .description(
      "Create a task. It starts in ready, or in todo while a parent is unfinished; triage with --triage, blocked with --initial-status blocked.",
    )
    .argument("<title>", "one-line title")
    .option("--body <text>", "the task's description: goal, inputs, definition of done")
    .option("--assignee <profile>", "the profile that should execute it")
    .option("--parent <id>", "a task that must be done first (repeatable)", collect)
    .option("--workspace <spec>", "scratch (default), worktree, worktree:<path> or dir:<path>", workspaceArg)
    .option("--branch <name>", "branch of a worktree workspace", branchArg)
    .option("--tenant <name>", "soft namespace (default: KANBAN_TENANT)")
    .option("--priority <n>", "higher runs first (default 0)", intArg())
    .option("--triage", "park it in triage until someone specifies it")
    .option("--idempotency-key <key>", "return the existing task when this key was used before")
    .option("--max-runtime <duration>", "time limit per attempt: 300, 90s, 30m, 2h, 1d", durationArg)
    .option("--created-by <name>", "author recorded on the task (default: your profile, else user)")
    .option("--skill <name>", "a skill the worker loads (repeatable)", collect)
    .option("--max-retries <n>", "failures before the breaker blocks it (>= 1)", intArg(1))
    .option("--model <model>", "model override for the worker")
    .option(
      "--initial-status <status>",
      "running or blocked instead of the computed status",
      choiceArg(["running", "blocked"] as const),
    )
    .option(
      "--requires <labels>",
      "labels a host must have to run it, comma-separated (macos,xcode); repeatable",
      requiresArg,
    )
    .option("--json", "print the task as JSON")
    .action(act((deps, title: string, opts: CreateOptions) => runCreate(deps, title, opts)));
};
