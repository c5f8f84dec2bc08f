import { TRPCClientError } from "@trpc/client";
import { boardArg, currentAuthor, type Deps, fenceFor } from "../deps.ts";
import { CliFailure, errorCode, errorData, UsageError } from "../errors.ts";
import { OutboxUnwritableError, outboxFor, QUEUED_LINE } from "../outbox-call.ts";
import { toJson } from "../output.ts";
import type { OutboxSent } from "../tools/client.ts";
import { gatedLine } from "./gates.ts";
import { collect, intArg, parseMetadata } from "./parse.ts";
import type { Register } from "./register.ts";
import type { UsageReport } from "./usage.ts";

/**
 * A remote host's worker settles its own task through the completion outbox (`../outbox-call.ts`,
 * shared with the MCP tools): null when the call is not one for the outbox (no outbox, local mode,
 * another task).
 */
async function viaOutbox(
  deps: Deps,
  verb: "complete" | "block",
  id: string,
  input: Record<string, unknown>,
): Promise<OutboxSent | null> {
  try {
    return (await outboxFor(deps.config)?.send(verb, id, input)) ?? null;
  } catch (err) {
    if (err instanceof OutboxUnwritableError) throw new CliFailure(err.message);
    throw err;
  }
}

/**
 * One failed id of a bulk verb, as the line printed for it. API refusals become a `cannot <verb>
 * <id> …` line; anything else (the API unreachable, a bug) is not about this id and is rethrown.
 */
export function refusal(verb: string, id: string, err: unknown, wrongStateText?: string): string {
  if (!(err instanceof TRPCClientError) || errorData(err) === null) throw err;
  const code = errorCode(err);
  if (code === "NOT_FOUND") return `cannot ${verb} ${id} (unknown id)`;
  if (code === "WRONG_STATE" && wrongStateText !== undefined) return wrongStateText;
  const message = err.message;
  return message.startsWith("cannot ") ? message : `cannot ${verb} ${id}: ${message}`;
}

/** Runs `fn` for every id, printing its success line or its refusal; exit 1 if any id failed. */
async function eachId(
  deps: Deps,
  ids: string[],
  fn: (id: string) => Promise<string>,
  onError: (id: string, err: unknown) => string,
): Promise<number> {
  let failed = 0;
  for (const id of ids) {
    try {
      deps.io.out(await fn(id));
    } catch (err) {
      failed++;
      deps.io.err(`kanban: ${onError(id, err)}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

function words(parts: string[] | undefined): string | null {
  const text = (parts ?? []).join(" ").trim();
  return text === "" ? null : text;
}

export async function runClaim(deps: Deps, id: string, opts: { ttl?: number }): Promise<number> {
  const client = await deps.client();
  const res = await client.tasks.claim.mutate({
    ...boardArg(deps),
    id,
    ttl_seconds: opts.ttl ?? null,
    claimer: deps.config.profile,
  });
  deps.io.out(`Claimed ${id}`);
  deps.io.out(`Workspace: ${res.task.workspace_kind} @ ${res.task.workspace_path ?? "(unresolved)"}`);
  return 0;
}

export async function runHeartbeat(
  deps: Deps,
  id: string,
  opts: { note?: string; usage?: UsageReport | null },
): Promise<number> {
  const client = await deps.client();
  const usage = opts.usage ? { usage: opts.usage } : {};
  const fence = fenceFor(deps, id);
  await client.tasks.heartbeat.mutate({ ...boardArg(deps), id, note: opts.note ?? null, ...usage, ...fence });
  deps.io.out(`Heartbeat recorded for ${id}`);
  return 0;
}

export interface CompleteOptions {
  result?: string;
  summary?: string;
  metadata?: string;
  createdCard?: string[];
  /** The worker's last usage report (issue 21; the flags of commands/usage.ts). */
  usage?: UsageReport | null;
}

/**
 * `kanban complete`. `--created-card` reaches the same created_cards gate as the agent tool: one
 * id that does not exist (or is not this task's) refuses the completion and leaves the task as it was.
 */
export async function runComplete(deps: Deps, ids: string[], opts: CompleteOptions): Promise<number> {
  if (ids.length > 1 && (opts.summary !== undefined || opts.metadata !== undefined || opts.createdCard !== undefined)) {
    throw new UsageError("--summary, --metadata and --created-card are per-task: pass exactly one task id with them");
  }
  if (ids.length > 1 && opts.usage) throw new UsageError("usage flags are per-task: complete one task with them");
  const metadata = parseMetadata(opts.metadata);
  const inputOf = (id: string) => ({
    ...boardArg(deps),
    id,
    result: opts.result ?? null,
    summary: opts.summary ?? null,
    metadata: metadata ?? null,
    created_cards: opts.createdCard ?? null,
    ...(opts.usage ? { usage: opts.usage } : {}),
    ...fenceFor(deps, id),
  });
  const hallucinated = (id: string, message: string) =>
    `${message}. ${id} is unchanged: retry without those ids (or without --created-card).`;
  if (ids.length === 1 && ids[0] !== undefined) {
    const id = ids[0];
    const sent = await viaOutbox(deps, "complete", id, inputOf(id));
    if (sent !== null) {
      if (sent.state === "pending") {
        deps.io.out(QUEUED_LINE);
        return 0;
      }
      if (sent.ok) {
        deps.io.out(sent.gated !== undefined ? `Completed ${id}; ${gatedLine(id, sent.gated)}` : `Completed ${id}`);
        return 0;
      }
      const line =
        sent.code === "HALLUCINATED_CARDS"
          ? hallucinated(id, sent.message)
          : sent.message.startsWith("cannot ")
            ? sent.message
            : `cannot complete ${id}: ${sent.message}`;
      deps.io.err(`kanban: ${line}`);
      return 1;
    }
  }
  const client = await deps.client();
  return eachId(
    deps,
    ids,
    async (id) => {
      const res = await client.tasks.complete.mutate(inputOf(id));
      // A gated card is not done yet: say where it waits (still a success, exit 0).
      return "gated" in res ? `Completed ${id}; ${gatedLine(id, res.gated)}` : `Completed ${id}`;
    },
    (id, err) => {
      if (errorCode(err) === "HALLUCINATED_CARDS" && err instanceof Error) return hallucinated(id, err.message);
      return refusal("complete", id, err);
    },
  );
}

export interface EditOptions {
  result?: string;
  summary?: string;
  metadata?: string;
  title?: string;
  body?: string;
  priority?: number;
}

export async function runEdit(deps: Deps, id: string, opts: EditOptions): Promise<number> {
  const metadata = parseMetadata(opts.metadata);
  if ((opts.summary !== undefined || metadata !== undefined) && opts.result === undefined) {
    throw new UsageError("--summary and --metadata rewrite a done task's handoff: pass --result with them");
  }
  const fields = { title: opts.title, body: opts.body, priority: opts.priority };
  const patch = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  if (opts.result === undefined && Object.keys(patch).length === 0)
    throw new UsageError("nothing to edit: pass --result, --title, --body or --priority");
  const client = await deps.client();
  if (opts.result !== undefined) {
    await client.tasks.editResult.mutate({
      ...boardArg(deps),
      id,
      result: opts.result,
      summary: opts.summary ?? null,
      metadata: metadata ?? null,
    });
  }
  if (Object.keys(patch).length > 0) await client.tasks.patch.mutate({ ...boardArg(deps), id, ...patch });
  deps.io.out(`Edited ${id}`);
  return 0;
}

export interface ParkOptions {
  ids?: string[];
  /** block only: dependency, needs_input, capability or transient (Hermes B). */
  kind?: string;
  /** block only: the worker's last usage report (issue 21; the flags of commands/usage.ts). */
  usage?: UsageReport | null;
}

/** Where a block landed, in one line: a typed block may wait in todo or go to triage. */
function blockedLine(id: string, reason: string | null, status: string | undefined): string {
  if (status === "todo") return `${id} → todo (dependency wait: it moves once its parents are done)`;
  if (status === "triage")
    return `${id} → triage (block loop detected: blocked twice for the same kind; a person decides)`;
  return reason === null ? `Blocked ${id}` : `Blocked ${id}: ${reason}`;
}

/** `block` and `schedule`: park one task (or several with --ids), the reason also kept as a comment. */
async function runPark(
  deps: Deps,
  verb: "block" | "schedule",
  id: string,
  reasonWords: string[],
  opts: ParkOptions,
): Promise<number> {
  const reason = words(reasonWords);
  const ids = [id, ...(opts.ids ?? [])];
  const kind = {
    ...(verb === "block" && opts.kind !== undefined ? { kind: opts.kind } : {}),
    ...(verb === "block" && opts.usage ? { usage: opts.usage } : {}),
  };
  if (opts.usage && ids.length > 1) throw new UsageError("usage flags are per-task: block one task with them");
  if (verb === "block" && ids.length === 1) {
    const input = {
      ...boardArg(deps),
      id,
      reason,
      comment_author: currentAuthor(deps),
      ...kind,
      ...fenceFor(deps, id),
    };
    const sent = await viaOutbox(deps, "block", id, input);
    if (sent !== null) {
      if (sent.state === "pending") {
        deps.io.out(QUEUED_LINE);
        return 0;
      }
      if (sent.ok) {
        deps.io.out(reason === null ? `Blocked ${id}` : `Blocked ${id}: ${reason}`);
        return 0;
      }
      deps.io.err(
        `kanban: ${sent.message.startsWith("cannot ") ? sent.message : `cannot block ${id}: ${sent.message}`}`,
      );
      return 1;
    }
  }
  const client = await deps.client();
  return eachId(
    deps,
    ids,
    async (tid) => {
      const input = { ...boardArg(deps), id: tid, reason, comment_author: currentAuthor(deps), ...fenceFor(deps, tid) };
      if (verb === "block") {
        const { task } = await client.tasks.block.mutate({ ...input, ...kind });
        return blockedLine(tid, reason, task.status);
      }
      await client.tasks.schedule.mutate(input);
      return reason === null ? `Scheduled ${tid}` : `Scheduled ${tid}: ${reason}`;
    },
    (tid, err) => refusal(verb, tid, err),
  );
}

export const runBlock = (deps: Deps, id: string, reason: string[], opts: ParkOptions) =>
  runPark(deps, "block", id, reason, opts);
export const runSchedule = (deps: Deps, id: string, reason: string[], opts: ParkOptions) =>
  runPark(deps, "schedule", id, reason, opts);

export async function runUnblock(deps: Deps, ids: string[], opts: { reason?: string }): Promise<number> {
  const client = await deps.client();
  return eachId(
    deps,
    ids,
    async (id) => {
      await client.tasks.unblock.mutate({
        ...boardArg(deps),
        id,
        reason: opts.reason ?? null,
        comment_author: currentAuthor(deps),
      });
      return `Unblocked ${id}`;
    },
    (id, err) => refusal("unblock", id, err, `cannot unblock ${id} (not blocked/scheduled?)`),
  );
}

export interface PromoteOptions {
  ids?: string[];
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export async function runPromote(deps: Deps, id: string, reasonWords: string[], opts: PromoteOptions): Promise<number> {
  const reason = words(reasonWords);
  const dry = opts.dryRun ?? false;
  const client = await deps.client();
  const ids = [id, ...(opts.ids ?? [])];
  const results: {
    task_id: string;
    promoted: boolean;
    dry_run: boolean;
    reason: string | null;
    error: string | null;
  }[] = [];
  for (const tid of ids) {
    try {
      results.push(
        await client.tasks.promote.mutate({
          ...boardArg(deps),
          id: tid,
          reason,
          actor: currentAuthor(deps),
          dry_run: dry,
        }),
      );
    } catch (err) {
      const line = refusal("promote", tid, err);
      const prefix = `cannot promote ${tid}: `;
      results.push({
        task_id: tid,
        promoted: false,
        dry_run: dry,
        reason,
        error: line.startsWith(prefix) ? line.slice(prefix.length) : line,
      });
    }
  }
  const failed = results.filter((r) => r.error !== null).length;
  if (opts.json) {
    deps.io.out(toJson(ids.length === 1 ? results[0] : results));
    return failed > 0 ? 1 : 0;
  }
  for (const r of results) {
    const why = r.reason === null ? "" : `: ${r.reason}`;
    if (r.error !== null) deps.io.err(`kanban: cannot promote ${r.task_id}: ${r.error}`);
    else deps.io.out(dry ? `Would promote ${r.task_id} -> ready${why}` : `Promoted ${r.task_id} -> ready${why}`);
  }
  return failed > 0 ? 1 : 0;
}

export async function runArchive(deps: Deps, ids: string[], opts: { rm?: string[] }): Promise<number> {
  const rm = opts.rm ?? [];
  if (ids.length > 0 && rm.length > 0)
    throw new CliFailure("pass task ids to archive, or --rm ids to delete archived tasks, not both");
  if (ids.length === 0 && rm.length === 0)
    throw new CliFailure("nothing to do: pass task ids to archive, or --rm ids to delete archived tasks");
  const client = await deps.client();
  if (rm.length > 0) {
    return eachId(
      deps,
      rm,
      async (id) => {
        await client.tasks.delete.mutate({ ...boardArg(deps), id, archived_only: true });
        return `Deleted ${id}`;
      },
      (id, err) => refusal("delete", id, err),
    );
  }
  return eachId(
    deps,
    ids,
    async (id) => {
      await client.tasks.archive.mutate({ ...boardArg(deps), id });
      return `Archived ${id}`;
    },
    (id, err) => refusal("archive", id, err),
  );
}

export const TRIM_MARKER = (n: number) => ` [trimmed to ${n} chars by --max-len]`;

export async function runComment(
  deps: Deps,
  id: string,
  textWords: string[],
  opts: { author?: string; maxLen?: number },
): Promise<number> {
  let body = textWords.join(" ").trim();
  if (body === "") throw new UsageError("the comment text must not be empty");
  if (opts.maxLen !== undefined && body.length > opts.maxLen)
    body = `${body.slice(0, opts.maxLen)}${TRIM_MARKER(opts.maxLen)}`;
  const client = await deps.client();
  await client.comments.add.mutate({
    ...boardArg(deps),
    task_id: id,
    body,
    author: opts.author ?? currentAuthor(deps),
    ...fenceFor(deps, id),
  });
  deps.io.out(`Comment added to ${id}`);
  return 0;
}

export const registerLifecycle: Register = (program, act) => {
  program
    .command("claim")
    .summary("claim a ready task (what the dispatcher does before spawning)")
    .argument("<task_id>")
    .option("--ttl <seconds>", "lease length (default 900)", intArg(1))
    .action(act((deps, id: string, opts: { ttl?: number }) => runClaim(deps, id, opts)));

  program
    .command("heartbeat")
    .summary("say a running task's worker is alive (extends its claim)")
    .argument("<task_id>")
    .option("--note <text>", "what the worker is doing")
    .action(act((deps, id: string, opts: { note?: string }) => runHeartbeat(deps, id, opts)));

  program
    .command("complete")
    .summary("complete tasks with a handoff")
    .description(
      "Complete one or more tasks. --summary, --metadata and --created-card apply to a single task. " +
        "Inside a worker (KANBAN_TASK) completing your own task carries KANBAN_RUN_ID, so a reclaimed worker is refused.",
    )
    .argument("<task_ids...>")
    .option("--result <text>", "the result text")
    .option("--summary <text>", "1-3 sentences a teammate can act on")
    .option("--metadata <json>", "facts as a JSON object, e.g. '{\"changed_files\": [...]}'")
    .option(
      "--created-card <id>",
      "a card this task created (repeatable); an id that is not yours refuses the completion",
      collect,
    )
    .action(act((deps, ids: string[], opts: CompleteOptions) => runComplete(deps, ids, opts)));

  program
    .command("edit")
    .summary("edit a task: the handoff of a done task, or its title, body and priority")
    .argument("<task_id>")
    .option("--result <text>", "new result of a done task")
    .option("--summary <text>", "new summary (with --result)")
    .option("--metadata <json>", "new metadata JSON object (with --result)")
    .option("--title <text>", "new title")
    .option("--body <text>", "new body")
    .option("--priority <n>", "new priority", intArg())
    .action(act((deps, id: string, opts: EditOptions) => runEdit(deps, id, opts)));

  program
    .command("block")
    .summary("block a task until a human answers")
    .description(
      "Block a task; the reason is also added as a comment 'BLOCKED: <reason>'. With --kind (Hermes B): " +
        "dependency waits in todo while a parent is unfinished; any kind blocked twice in a row (no completion " +
        "between) goes to triage for a person to decide.",
    )
    .argument("<task_id>")
    .argument("[reason...]", "what input is needed")
    .option("--ids <ids...>", "more tasks to block with the same reason")
    .option("--kind <kind>", "what the wait is for: dependency, needs_input, capability or transient")
    .action(act((deps, id: string, reason: string[], opts: ParkOptions) => runBlock(deps, id, reason, opts)));

  program
    .command("schedule")
    .summary("park a task until something external happens")
    .description("Schedule a task; the reason is also added as a comment 'SCHEDULED: <reason>'.")
    .argument("<task_id>")
    .argument("[reason...]", "what it waits for")
    .option("--ids <ids...>", "more tasks to schedule with the same reason")
    .action(act((deps, id: string, reason: string[], opts: ParkOptions) => runSchedule(deps, id, reason, opts)));

  program
    .command("unblock")
    .summary("return blocked or scheduled tasks to the queue")
    .argument("<task_ids...>")
    .option("--reason <text>", "recorded as a comment 'UNBLOCK: <reason>'")
    .action(act((deps, ids: string[], opts: { reason?: string }) => runUnblock(deps, ids, opts)));

  program
    .command("promote")
    .summary("move todo or blocked tasks to ready")
    .argument("<task_id>")
    .argument("[reason...]", "why")
    .option("--ids <ids...>", "more tasks to promote")
    .option("--force", "accepted for compatibility; promotion still requires finished parents")
    .option("--dry-run", "say what would happen, change nothing")
    .option("--json", "print {task_id, promoted, dry_run, reason, error} (a list with --ids)")
    .action(act((deps, id: string, reason: string[], opts: PromoteOptions) => runPromote(deps, id, reason, opts)));

  program
    .command("archive")
    .summary("archive tasks, or delete archived ones with --rm")
    .argument("[task_ids...]")
    .option("--rm <ids...>", "hard-delete these already-archived tasks")
    .action(act((deps, ids: string[], opts: { rm?: string[] }) => runArchive(deps, ids, opts)));

  program
    .command("comment")
    .summary("add a comment to a task")
    .argument("<task_id>")
    .argument("<text...>")
    .option("--author <name>", "default: your profile (KANBAN_PROFILE), else user")
    .option("--max-len <n>", "trim longer text (a marker says so)", intArg(1))
    .action(
      act((deps, id: string, text: string[], opts: { author?: string; maxLen?: number }) =>
        runComment(deps, id, text, opts),
      ),
    );
};
