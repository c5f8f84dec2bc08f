import fs from "node:fs";
import path from "node:path";
import { liveDispatcherPid, logsDir, workspacesRoot } from "@kanban/db";
import {
  type Board,
  canonicalAssignee,
  invalid,
  isWithinRoot,
  KernelError,
  LIST_ORDERS,
  parseWorkspaceSpec,
  type TaskView,
  type Termination,
  WORKSPACE_KINDS,
  type WorkspaceRules,
  wrongState,
} from "@kanban/kernel";
import { z } from "zod";
import type { KanbanContext } from "../context.ts";
import { taskDetail } from "../queries/task-detail.ts";
import { TASK_PAGE, taskPage } from "../queries/task-page.ts";
import {
  bodySchema,
  fenceFields,
  idListSchema,
  idSchema,
  metadataSchema,
  nameSchema,
  reasonSchema,
  resultSchema,
  titleSchema,
  withBoard,
} from "../schemas.ts";
import { scopedTask, type TaskDto, taskDto, tenantFilter } from "../scope.ts";
import { adminProcedure, publicProcedure, router } from "../trpc.ts";

/** Largest worker-log tail one request may read (Hermes' bound). */
export const LOG_TAIL_MAX = 2_000_000;

const idInput = z.object({ ...withBoard, id: idSchema });
const ttlSchema = z
  .number()
  .int()
  .min(1)
  .max(7 * 86_400);
const priority = z.number().int().min(-1_000_000).max(1_000_000);

function failureLimit(ctx: KanbanContext): number {
  return ctx.config().kanban.failure_limit;
}

/**
 * Why nothing will pick a new task up, if that is the case: it is ready and assigned, but no
 * dispatcher is alive, or its assignee is not a profile the dispatcher can spawn on this host: one
 * of config.json's profiles, or with none configured (the built-in Hermes runtime) `default` or a
 * Hermes profile on disk (`ctx.knownProfiles()`, the dispatcher's own rule). A failing probe never
 * fails the create.
 */
export function dispatchWarning(ctx: KanbanContext, task: TaskView): string | null {
  if (task.status !== "ready" || !task.assignee) return null;
  try {
    if (liveDispatcherPid(ctx.location.home) === null) {
      return `no dispatcher is running: nothing will dispatch ${task.id} until one starts`;
    }
    const known = ctx.knownProfiles();
    if (known !== null && !known.names.includes(task.assignee)) {
      const what = known.source === "config" ? "a configured profile" : "a Hermes profile on this host";
      return `assignee '${task.assignee}' is not ${what} (${known.names.join(", ")}): the dispatcher will never spawn ${task.id}`;
    }
  } catch (err) {
    ctx.logger.warn("dispatch probe failed", { error: (err as Error).message });
  }
  return null;
}

/**
 * Where this caller may put a dir:/worktree workspace: a tenant only under config.json's
 * `kanban.workspace_roots` (none configured = scratch only); the operator anywhere. Nobody chooses
 * a scratch path (the kernel refuses one for every caller).
 */
function workspaceRules(ctx: KanbanContext): WorkspaceRules {
  return { allowedWorkspaceRoots: ctx.tenant === null ? null : ctx.config().kanban.workspace_roots };
}

/** Refuses (400, undoing the claim around it) a tenant's dir: path outside the allowed roots. */
function checkTenantRoots(ctx: KanbanContext, id: string, dir: string): void {
  const roots = workspaceRules(ctx).allowedWorkspaceRoots;
  if (roots === null || roots === undefined || roots.some((root) => isWithinRoot(root, dir))) return;
  throw new KernelError(
    "WORKSPACE_PATH_NOT_ALLOWED",
    `cannot claim ${id}: workspace path '${dir}' is outside the workspace roots this server allows (config.json kanban.workspace_roots)`,
    { task_id: id, workspace_kind: "dir" },
  );
}

/**
 * Who else's worker a complete/block/schedule releases. A call fenced by run id or claim lock is the
 * worker speaking for itself (it exits on its own); an unfenced one is a person or a script closing
 * the card under a live worker, which must then be stopped like any other released claim.
 */
function workerReleasedByOthers(
  board: Board,
  task: TaskView,
  fence: { expected_run_id?: number | null; claim_lock?: string | null },
): Termination | null {
  if (fence.expected_run_id != null || fence.claim_lock != null) return null;
  return board.workerToStop(task);
}

/**
 * block and schedule: park a task (fenced when the worker itself asks), stop the worker if someone
 * else parked it, and record the reason as a comment when an author is given.
 */
function parkProcedure(verb: "blockTask" | "scheduleTask", commentPrefix: "BLOCKED" | "SCHEDULED") {
  return publicProcedure
    .input(idInput.extend({ ...fenceFields, reason: reasonSchema.nullish(), comment_author: nameSchema.nullish() }))
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      const stop = workerReleasedByOthers(board, scopedTask(ctx, board, input.id), input);
      board[verb](input.id, {
        reason: input.reason,
        expected_run_id: input.expected_run_id,
        claim_lock: input.claim_lock,
      });
      ctx.terminate(stop);
      if (input.comment_author && input.reason?.trim())
        board.addComment(input.id, input.comment_author, `${commentPrefix}: ${input.reason.trim()}`);
      return result(board, input.id);
    });
}

function result(board: Board, id: string): { task: TaskDto } {
  return { task: taskDto(board.requireTask(id)) };
}

/** Reads the end of a worker log; a tail that starts mid-line drops that partial first line. */
function readLogTail(
  file: string,
  tail: number,
): { exists: boolean; size_bytes: number; content: string; truncated: boolean } {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return { exists: false, size_bytes: 0, content: "", truncated: false };
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, tail);
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, size - length);
    let content = buf.toString("utf8");
    const truncated = length < size;
    if (truncated) {
      const nl = content.indexOf("\n");
      if (nl !== -1) content = content.slice(nl + 1);
    }
    return { exists: true, size_bytes: size, content, truncated };
  } finally {
    fs.closeSync(fd);
  }
}

const createInput = z.object({
  ...withBoard,
  title: titleSchema,
  body: bodySchema.nullish(),
  assignee: nameSchema.nullish(),
  tenant: nameSchema.nullish(),
  priority: priority.default(0),
  /** The CLI's shorthand: `scratch`, `worktree`, `worktree:<abs path>`, `dir:<abs path>`. */
  workspace: z.string().max(4096).nullish(),
  workspace_kind: z.enum(WORKSPACE_KINDS).nullish(),
  workspace_path: z.string().max(4096).nullish(),
  branch_name: nameSchema.nullish(),
  parents: idListSchema.default([]),
  triage: z.boolean().default(false),
  idempotency_key: nameSchema.nullish(),
  max_runtime_seconds: z.number().int().min(1).nullish(),
  skills: z.array(nameSchema).max(100).nullish(),
  max_retries: z.number().int().min(1).nullish(),
  model_override: nameSchema.nullish(),
  created_by: nameSchema.nullish(),
  initial_status: z.enum(["running", "blocked"]).nullish(),
  session_id: nameSchema.nullish(),
  workflow_template_id: nameSchema.nullish(),
  current_step_key: nameSchema.nullish(),
});

const patchInput = z.object({
  ...withBoard,
  id: idSchema,
  status: z.string().max(32).optional(),
  /** null or "" unassigns. */
  assignee: nameSchema.nullable().optional(),
  priority: priority.optional(),
  title: titleSchema.optional(),
  body: bodySchema.nullable().optional(),
  /** With status=done: the completion's result / summary / metadata. */
  result: resultSchema.nullable().optional(),
  summary: resultSchema.nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
  /** With status=blocked or scheduled. */
  block_reason: reasonSchema.nullable().optional(),
  model_override: nameSchema.nullable().optional(),
  clear_model_override: z.boolean().optional(),
  max_runtime_seconds: z.number().int().min(1).nullable().optional(),
  max_retries: z.number().int().min(1).nullable().optional(),
});

const bulkInput = z.object({
  ...withBoard,
  ids: idListSchema.min(1, "ids must not be empty"),
  status: z.string().max(32).optional(),
  /** "" unassigns. */
  assignee: nameSchema.optional(),
  priority: priority.optional(),
  archive: z.boolean().default(false),
  result: resultSchema.nullable().optional(),
  summary: resultSchema.nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
  block_reason: reasonSchema.nullable().optional(),
  reclaim_first: z.boolean().default(false),
});

/**
 * Creates a claimed task's workspace directory, or refuses the claim (409). The path is named only
 * to an admin caller or when the caller chose it (a dir: path): a scratch path is the server's.
 */
function makeWorkspace(ctx: KanbanContext, task: { id: string; workspace_kind: string }, dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    const where = ctx.tenant === null || task.workspace_kind === "dir" ? ` at ${dir}` : "";
    throw wrongState(
      `cannot claim ${task.id}: its ${task.workspace_kind} workspace cannot be created${where} (${code})`,
      {
        task_id: task.id,
        workspace_kind: task.workspace_kind,
        error: code,
      },
    );
  }
}

/** Thrown inside a bulk row's transaction to undo the row; its message is what the row reports. */
class RowRefused extends Error {}

/** The message a bulk row reports: the kernel's text, or a generic one for a bug (logged). */
function bulkError(ctx: KanbanContext, err: unknown): string {
  if (err instanceof KernelError) return err.message;
  ctx.logger.error("bulk update failed unexpectedly", { error: (err as Error).message, stack: (err as Error).stack });
  return "internal error";
}

export const tasksRouter = router({
  /** The task drawer: task with extras, comments, last 200 events, runs, links, child results, worker context, diagnostics. */
  get: publicProcedure
    .input(idInput)
    .query(({ ctx, input }) => taskDetail(ctx, ctx.board(input.board), input.id, failureLimit(ctx))),

  /**
   * One page of tasks (interface C): at most `limit` (default 200, max 1000) and about 4 MiB, in
   * `order_by` order; `next_cursor` continues after the last task, null when there is no more.
   */
  list: publicProcedure
    .input(
      z
        .object({
          ...withBoard,
          assignee: nameSchema.nullish(),
          status: z.string().max(32).nullish(),
          tenant: nameSchema.nullish(),
          session_id: nameSchema.nullish(),
          include_archived: z.boolean().default(false),
          order_by: z
            .enum(Object.keys(LIST_ORDERS) as [keyof typeof LIST_ORDERS, ...(keyof typeof LIST_ORDERS)[]])
            .nullish(),
          workflow_template_id: nameSchema.nullish(),
          current_step_key: nameSchema.nullish(),
          search: z.string().max(500).nullish(),
          limit: z.number().int().min(1).max(TASK_PAGE.maxLimit).nullish(),
          /** Opaque: the `next_cursor` of the previous page (same filters and order). */
          cursor: z.string().max(4096).nullish(),
          /** Adds each task's parent and child ids (one query for the whole page). */
          include_links: z.boolean().default(false),
        })
        .prefault({}),
    )
    .query(
      ({
        ctx,
        input,
      }): { tasks: (TaskDto & { parents?: string[]; children?: string[] })[]; next_cursor: string | null } => {
        const { board: slug, include_links, cursor, limit, ...filter } = input;
        const board = ctx.board(slug);
        const page = taskPage(board, { ...filter, tenant: tenantFilter(ctx, input.tenant) }, { cursor, limit });
        if (!include_links) return page;
        const edges = board.linkEdges(page.tasks.map((t) => t.id));
        const parents = new Map<string, string[]>();
        const children = new Map<string, string[]>();
        for (const e of edges) {
          parents.set(e.child_id, [...(parents.get(e.child_id) ?? []), e.parent_id]);
          children.set(e.parent_id, [...(children.get(e.parent_id) ?? []), e.child_id]);
        }
        return {
          tasks: page.tasks.map((t) => ({
            ...t,
            parents: parents.get(t.id) ?? [],
            children: children.get(t.id) ?? [],
          })),
          next_cursor: page.next_cursor,
        };
      },
    ),

  /** Dashboard-style create: `created_by` defaults to "dashboard"; `warning` says when nothing will dispatch it. */
  create: publicProcedure.input(createInput).mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    if (ctx.tenant !== null) {
      // Another tenant's task is reported exactly as an unknown one would be.
      const hidden = input.parents.filter((p) => {
        const parent = board.getTask(p);
        return parent !== null && parent.tenant !== ctx.tenant;
      });
      if (hidden.length > 0) throw invalid(`unknown parent task(s): ${hidden.join(", ")}`, { missing: hidden });
    }
    const { board: _slug, workspace, ...fields } = input;
    let ws: { workspace_kind?: string | null; workspace_path?: string | null } = {};
    if (workspace) {
      if (input.workspace_kind || input.workspace_path)
        throw invalid("pass either workspace or workspace_kind/workspace_path, not both");
      ws = parseWorkspaceSpec(workspace);
    }
    const task = board.createTask(
      {
        ...fields,
        ...ws,
        // A tenant-scoped caller creates in its own tenant, whatever it asked for.
        tenant: ctx.tenant ?? input.tenant,
        created_by: input.created_by ?? "dashboard",
        initial_status: input.initial_status ?? undefined,
      },
      workspaceRules(ctx),
    );
    const warning = dispatchWarning(ctx, task);
    return warning === null ? { task: taskDto(task) } : { task: taskDto(task), warning };
  }),

  /**
   * The drawer's and drag-drop's edit, applied in Hermes' order: assignee (a running, claimed task
   * refuses: 409), status (through the verb that owns it; `running` is never written directly),
   * model override, priority, then title/body and limits.
   */
  patch: publicProcedure.input(patchInput).mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    const id = input.id;
    const current = scopedTask(ctx, board, id);
    // One transaction: a step that is refused (an unknown status, say) undoes the steps before it,
    // so a refused patch changes nothing. The worker is stopped only once the release committed.
    const terminate = board.atomically(() => {
      // Re-sending the current assignee (a form posting every field) is not a change, even while running.
      if (input.assignee !== undefined && canonicalAssignee(input.assignee) !== current.assignee)
        board.assignTask(id, input.assignee);
      const moved =
        input.status === undefined
          ? null
          : board.moveTask(id, {
              status: input.status,
              result: input.result,
              summary: input.summary,
              metadata: input.metadata,
              reason: input.block_reason,
              failureLimit: failureLimit(ctx),
            });
      if (input.clear_model_override) board.updateTask(id, { model_override: null });
      else if (input.model_override !== undefined) board.updateTask(id, { model_override: input.model_override });
      if (input.priority !== undefined) board.updateTask(id, { priority: input.priority });
      const edits = {
        ...(input.title !== undefined ? { title: input.title } : {}),
        ...(input.body !== undefined ? { body: input.body } : {}),
        ...(input.max_runtime_seconds !== undefined ? { max_runtime_seconds: input.max_runtime_seconds } : {}),
        ...(input.max_retries !== undefined ? { max_retries: input.max_retries } : {}),
      };
      if (Object.keys(edits).length > 0) board.updateTask(id, edits);
      return moved?.terminate;
    });
    ctx.terminate(terminate);
    return result(board, id);
  }),

  /** Hard delete from any status (the board's trash); `archived_only` refuses live tasks (`kanban archive --rm`). */
  delete: publicProcedure
    .input(idInput.extend({ archived_only: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      scopedTask(ctx, board, input.id);
      if (input.archived_only) board.deleteArchivedTask(input.id);
      else ctx.terminate(board.deleteTask(input.id, failureLimit(ctx)).terminate);
      return { deleted: true as const, task_id: input.id };
    }),

  /**
   * Applies one change to many tasks. Each row is one transaction: a row refused at any step
   * (say its status change, after its reassignment went through) keeps none of its changes, and
   * its worker is stopped only when the row committed. Rows succeed or fail independently.
   */
  bulk: publicProcedure.input(bulkInput).mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    const limit = failureLimit(ctx);
    const results = input.ids.map((id): { id: string; ok: boolean; error?: string } => {
      const task = board.getTask(id);
      if (!task || (ctx.tenant !== null && task.tenant !== ctx.tenant)) return { id, ok: false, error: "not found" };
      /** One step of the row; a refusal rolls the whole row back with `prefix` + the reason. */
      const step = <T>(prefix: string, fn: () => T): T => {
        try {
          return fn();
        } catch (err) {
          throw new RowRefused(`${prefix}${bulkError(ctx, err)}`);
        }
      };
      let stops: (Termination | null | undefined)[];
      try {
        stops = board.atomically(() => {
          if (input.archive) return [step("archive refused: ", () => board.archiveTask(id, limit).terminate)];
          const released: (Termination | null | undefined)[] = [];
          if (input.assignee !== undefined && canonicalAssignee(input.assignee) !== task.assignee) {
            const profile = input.assignee.trim() === "" ? null : input.assignee;
            const r = step("assign refused: ", () =>
              board.reassignTask(id, profile, { reclaimFirst: input.reclaim_first }),
            );
            if (!r.ok)
              throw new RowRefused("assign refused: still running (pass reclaim_first to release the claim first)");
            released.push(r.terminate);
          }
          if (input.status !== undefined) {
            const status = input.status;
            const moved = step(`transition to '${status}' refused: `, () =>
              board.moveTask(id, {
                status,
                result: input.result,
                summary: input.summary,
                metadata: input.metadata,
                reason: input.block_reason,
                failureLimit: limit,
              }),
            );
            released.push(moved.terminate);
          }
          const priority = input.priority;
          if (priority !== undefined) step("", () => board.updateTask(id, { priority }));
          return released;
        });
      } catch (err) {
        if (err instanceof RowRefused) return { id, ok: false, error: err.message };
        return { id, ok: false, error: bulkError(ctx, err) };
      }
      for (const stop of stops) ctx.terminate(stop);
      return { id, ok: true };
    });
    return { results };
  }),

  /**
   * Claims a ready task (the one place work starts); 409 names its status and lock when it is not
   * claimable. The claim and its workspace directory commit together: a directory that cannot be
   * created undoes the claim (no run, no event) and answers 409, so no task is left running under
   * a claim nobody works on.
   */
  claim: publicProcedure
    .input(idInput.extend({ ttl_seconds: ttlSchema.nullish(), claimer: nameSchema.nullish() }))
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      const before = scopedTask(ctx, board, input.id);
      // The kernel claims and runs this callback in one transaction: a throw here undoes the claim.
      const { claimed, workspace } = board.claimWithWorkspace(
        input.id,
        { ttl_seconds: input.ttl_seconds, claimer: input.claimer },
        (claimed) => {
          if (claimed === null) {
            const now = board.getTask(input.id) ?? before;
            throw wrongState(`cannot claim ${input.id}: status=${now.status} lock=${now.claim_lock ?? "(none)"}`, {
              task_id: input.id,
              status: now.status,
            });
          }
          // Scratch and dir workspaces are plain directories, materialised here like the dispatcher
          // does; a worktree needs git and is left to the dispatcher (workspace stays null).
          let workspace: string | null = claimed.workspace_path;
          if (claimed.workspace_kind === "scratch" || claimed.workspace_kind === "dir") {
            // A tenant's dir: path is judged again against today's roots (the operator may have narrowed them).
            if (claimed.workspace_kind === "dir" && workspace !== null) checkTenantRoots(ctx, claimed.id, workspace);
            // A scratch directory is always <root>/<task id>, as the dispatcher makes it: a path recorded
            // on the row (by an old version, by Hermes, by hand) is never trusted to name it.
            if (claimed.workspace_kind === "scratch")
              workspace = path.join(workspacesRoot(ctx.location, board.slug ?? "default"), claimed.id);
            workspace ??= path.join(workspacesRoot(ctx.location, board.slug ?? "default"), claimed.id);
            makeWorkspace(ctx, claimed, workspace);
            board.setWorkspace(claimed.id, workspace);
          }
          return { claimed, workspace };
        },
      );
      return {
        task: taskDto({ ...claimed, workspace_path: workspace, warnings: null }),
        run_id: claimed.current_run_id,
        workspace,
      };
    }),

  /** Extends the claim and records a worker heartbeat (event `heartbeat`), fenced on the run/lock. */
  heartbeat: publicProcedure
    .input(idInput.extend({ ...fenceFields, note: reasonSchema.nullish(), ttl_seconds: ttlSchema.nullish() }))
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      scopedTask(ctx, board, input.id);
      const fence = { expected_run_id: input.expected_run_id, claim_lock: input.claim_lock };
      if (!board.heartbeatClaim(input.id, { ...fence, ttl_seconds: input.ttl_seconds })) {
        throw wrongState(`cannot heartbeat ${input.id} (not running?)`, { task_id: input.id });
      }
      board.heartbeatWorker(input.id, { ...fence, note: input.note });
      return { ok: true as const, task_id: input.id };
    }),

  /** Completes with a structured handoff; phantom `created_cards` → 412 with the ids in `data.details.phantom`. */
  complete: publicProcedure
    .input(
      idInput.extend({
        ...fenceFields,
        result: resultSchema.nullish(),
        summary: resultSchema.nullish(),
        metadata: metadataSchema.nullish(),
        created_cards: idListSchema.nullish(),
      }),
    )
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      const stop = workerReleasedByOthers(board, scopedTask(ctx, board, input.id), input);
      const done = board.completeTask(input.id, {
        result: input.result,
        summary: input.summary,
        metadata: input.metadata,
        created_cards: input.created_cards,
        expected_run_id: input.expected_run_id,
        claim_lock: input.claim_lock,
        // The live setting: the board was opened with the value of that moment.
        failureLimit: failureLimit(ctx),
      });
      ctx.terminate(stop);
      return { task: taskDto({ ...done.task, warnings: null }), run_id: done.run_id };
    }),

  /** Parks a task for human input. `comment_author` also records the reason as a `BLOCKED:` comment. */
  block: parkProcedure("blockTask", "BLOCKED"),

  /** Parks a task until something external happens. `comment_author` also records a `SCHEDULED:` comment. */
  schedule: parkProcedure("scheduleTask", "SCHEDULED"),

  unblock: publicProcedure
    .input(idInput.extend({ reason: reasonSchema.nullish(), comment_author: nameSchema.nullish() }))
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      scopedTask(ctx, board, input.id);
      board.unblockTask(input.id);
      if (input.comment_author && input.reason?.trim())
        board.addComment(input.id, input.comment_author, `UNBLOCK: ${input.reason.trim()}`);
      return result(board, input.id);
    }),

  /** Operator promotion todo/blocked → ready; refused (409) with unfinished parents or another status. */
  promote: publicProcedure
    .input(
      idInput.extend({
        reason: reasonSchema.nullish(),
        actor: nameSchema.nullish(),
        dry_run: z.boolean().default(false),
      }),
    )
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      scopedTask(ctx, board, input.id);
      const r = board.promoteTask(input.id, { actor: input.actor, reason: input.reason, dryRun: input.dry_run });
      if (!r.ok) throw wrongState(`cannot promote ${input.id}: ${r.error ?? "refused"}`, { task_id: input.id });
      return {
        task_id: input.id,
        promoted: !input.dry_run,
        dry_run: input.dry_run,
        reason: input.reason ?? null,
        error: null,
      };
    }),

  archive: publicProcedure.input(idInput).mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    scopedTask(ctx, board, input.id);
    ctx.terminate(board.archiveTask(input.id, failureLimit(ctx)).terminate);
    return result(board, input.id);
  }),

  /** Rewrites the handoff of a done task. */
  editResult: publicProcedure
    .input(
      idInput.extend({ result: resultSchema, summary: resultSchema.nullish(), metadata: metadataSchema.nullish() }),
    )
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      scopedTask(ctx, board, input.id);
      board.editCompletedResult(input.id, { result: input.result, summary: input.summary, metadata: input.metadata });
      return result(board, input.id);
    }),

  /** Releases a running task's claim now (its worker is terminated) and puts it back to ready. */
  reclaim: publicProcedure.input(idInput.extend({ reason: reasonSchema.nullish() })).mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    scopedTask(ctx, board, input.id);
    const r = board.reclaimTask(input.id, { reason: input.reason });
    ctx.terminate(r.terminate);
    return { ok: true as const, task_id: input.id, task: taskDto({ ...r.task, warnings: null }) };
  }),

  /** Changes hands; a running task needs `reclaim_first` (409 otherwise). "" or null unassigns. */
  reassign: publicProcedure
    .input(
      idInput.extend({
        profile: nameSchema.nullable().default(null),
        reclaim_first: z.boolean().default(false),
        reason: reasonSchema.nullish(),
      }),
    )
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      scopedTask(ctx, board, input.id);
      const profile = input.profile === null || input.profile.trim() === "" ? null : input.profile;
      const r = board.reassignTask(input.id, profile, { reclaimFirst: input.reclaim_first, reason: input.reason });
      ctx.terminate(r.terminate);
      if (!r.ok) {
        throw wrongState(
          `cannot reassign ${input.id}: unknown id, or still running (pass reclaim_first=true to release the claim first)`,
          {
            task_id: input.id,
          },
        );
      }
      return { ok: true as const, task_id: input.id, assignee: board.requireTask(input.id).assignee };
    }),

  /** The worker context text (what `kanban context` prints). */
  context: publicProcedure.input(idInput).query(({ ctx, input }) => {
    const board = ctx.board(input.board);
    scopedTask(ctx, board, input.id);
    return { task_id: input.id, context: board.workerContext(input.id) };
  }),

  /**
   * The end of the task's worker log (`<logs dir>/<id>.log`), at most `tail` bytes. `path` is the
   * file's full path for an admin caller; a tenant gets only its name, since the server's
   * directories are the operator's business.
   */
  log: publicProcedure
    .input(idInput.extend({ tail: z.number().int().min(1).max(LOG_TAIL_MAX).optional() }))
    .query(({ ctx, input }) => {
      const slug = ctx.slug(input.board);
      const board = ctx.board(slug);
      scopedTask(ctx, board, input.id);
      const file = path.join(logsDir(ctx.location, slug), `${input.id}.log`);
      return {
        task_id: input.id,
        path: ctx.tenant === null ? file : path.basename(file),
        ...readLogTail(file, input.tail ?? LOG_TAIL_MAX),
      };
    }),

  /** Promotes every todo/auto-blocked task whose parents are done (what `kanban list` runs first). */
  recompute: adminProcedure.input(z.object(withBoard).prefault({})).mutation(({ ctx, input }) => {
    return { promoted: ctx.board(input.board).recomputeReady(failureLimit(ctx)) };
  }),
});
