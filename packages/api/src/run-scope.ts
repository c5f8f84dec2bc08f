import type { RunClaim } from "@kanban/db";
import { type Board, invalid, KernelError, type TaskView } from "@kanban/kernel";
import { TRPCError } from "@trpc/server";
import type { HostCaller } from "./auth.ts";
import type { KanbanContext } from "./context.ts";

/** Set on the context when the caller authenticated with a worker's run token, or a remote host's token. */
export interface RunScoped {
  readonly run?: RunClaim | null;
  readonly host?: HostCaller | null;
}

/**
 * All a host token may call: claim, renew and report on its own runs. Everything else, reads
 * included, is refused (FORBIDDEN); these six refuse every other caller in turn (routers/hosts).
 */
export const HOST_PROCEDURES: ReadonlySet<string> = new Set([
  "hosts.hello",
  "hosts.heartbeat",
  "hosts.claim",
  "hosts.spawned",
  "hosts.exited",
  "hosts.stopped",
]);

/**
 * What a run token may call, and on which task. "own": only the run's task; "fenced": also with
 * `expected_run_id` equal to the run; "related": the run's task, its children and the tasks its
 * profile created (in its tenant) since the run started — what a worker hands work to.
 * Everything else (listing, board administration, other tasks' lifecycle) is refused.
 */
type Rule =
  | { kind: "free" }
  | { kind: "own"; field: "id" | "task_id"; fenced?: boolean; terminal?: boolean }
  | { kind: "related"; fields: ("id" | "task_id" | "parent_id" | "child_id")[] }
  | { kind: "create" };

export const RUN_TOKEN_RULES: Readonly<Record<string, Rule>> = {
  "config.get": { kind: "free" },
  "assignees.list": { kind: "free" },
  "tasks.get": { kind: "related", fields: ["id"] },
  "tasks.context": { kind: "own", field: "id" },
  "tasks.log": { kind: "own", field: "id" },
  "tasks.heartbeat": { kind: "own", field: "id", fenced: true },
  "tasks.complete": { kind: "own", field: "id", fenced: true, terminal: true },
  "tasks.block": { kind: "own", field: "id", fenced: true, terminal: true },
  "usage.report": { kind: "own", field: "id", fenced: true },
  "tasks.requestReview": { kind: "own", field: "id", fenced: true },
  "tasks.requestChanges": { kind: "own", field: "id", fenced: true },
  "gates.card": { kind: "own", field: "id" },
  "runs.list": { kind: "own", field: "task_id" },
  "events.list": { kind: "own", field: "task_id" },
  "comments.list": { kind: "related", fields: ["task_id"] },
  "comments.add": { kind: "related", fields: ["task_id"] },
  "links.add": { kind: "related", fields: ["parent_id", "child_id"] },
  "tasks.create": { kind: "create" },
};

function field(raw: Record<string, unknown>, name: string): string | null {
  const v = raw[name];
  return typeof v === "string" && v.trim() !== "" ? v.trim() : null;
}

/** Whether `id` is one of the tasks a run may read and hand work to (see {@link RUN_TOKEN_RULES}). */
async function isRelated(board: Board, task: TaskView, startedAt: number, id: string): Promise<boolean> {
  if (id === task.id) return true;
  if ((await board.childIds(task.id)).includes(id)) return true;
  if (task.assignee === null) return false;
  return await board.createdBySince(id, task.assignee, startedAt, task.tenant);
}

/** What a run-token request's context becomes: the task's tenant, and the run's board as the default board. */
export type RunScopeOverrides = Pick<KanbanContext, "tenant" | "board" | "slug">;

/**
 * Confines a run-token caller to its run. Returns the context it acts in (the task's tenant, read
 * now from the board, never from the token; an omitted `board` means the run's board, not the
 * server's current one) or `undefined` for any other caller. Throws:
 * FORBIDDEN for a procedure outside the list, STALE_RUN (409, "stop, do not retry") once the run is
 * no longer the task's current run, FORBIDDEN for a task outside the run's reach (whether or not it exists).
 */
export async function runScope(
  ctx: KanbanContext & RunScoped,
  path: string,
  rawInput: unknown,
): Promise<RunScopeOverrides | undefined> {
  if (ctx.host && !HOST_PROCEDURES.has(path)) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: `a host token cannot call ${path}; it may only claim, renew and report through hosts.*`,
    });
  }
  const claim = ctx.run;
  if (!claim) return undefined;
  const tenant = await checkRunScope(ctx, claim, path, rawInput);
  return { tenant, board: (slug) => ctx.board(slug ?? claim.board), slug: (slug) => ctx.slug(slug ?? claim.board) };
}

/**
 * A task outside the run's reach: 403, the same for a task that exists (of this tenant or another)
 * and for an id that does not, so a worker learns nothing about the board beyond its own run.
 */
function outsideRun(path: string, claim: RunClaim): TRPCError {
  return new TRPCError({
    code: "FORBIDDEN",
    message: `a worker's run token acts on its own task (${claim.task}), its children and the tasks it created; not in ${path}`,
  });
}

async function checkRunScope(
  ctx: KanbanContext,
  claim: RunClaim,
  path: string,
  rawInput: unknown,
): Promise<string | null> {
  const rule = RUN_TOKEN_RULES[path];
  if (!rule) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: `a worker's run token cannot call ${path}; it may act on its own task only`,
    });
  }
  const raw =
    rawInput !== null && typeof rawInput === "object" && !Array.isArray(rawInput)
      ? (rawInput as Record<string, unknown>)
      : {};
  // The token names one board; a request must not reach another one.
  if (ctx.slug(field(raw, "board") ?? claim.board) !== claim.board) {
    throw new TRPCError({ code: "FORBIDDEN", message: `this run token is for board '${claim.board}'` });
  }
  const board = ctx.board(claim.board);
  const task = await board.getTask(claim.task);
  const current = task !== null && task.status === "running" && task.current_run_id === claim.run;
  // A terminal call (complete, block) of a run that has ended still reaches the kernel, fenced on
  // the token's run: a re-sent call of a run that ended that way is answered as the first one was,
  // any other is recorded on the task as a late report and refused there (STALE_RUN). A worker's
  // outbox re-sends until it hears a definitive answer, so nothing it reported is silently dropped.
  if (task === null || (!current && !(rule.kind === "own" && rule.terminal))) {
    throw new KernelError("STALE_RUN", `run ${claim.run} of ${claim.task} has ended; its token is no longer valid`, {
      task_id: claim.task,
      run_id: claim.run,
    });
  }
  const tenant = task.tenant;
  if (rule.kind === "free") return tenant;
  if (rule.kind === "own") {
    const id = field(raw, rule.field);
    if (id === null)
      throw new TRPCError({
        code: "FORBIDDEN",
        message: `a worker's run token must name its own task (${rule.field}) in ${path}`,
      });
    if (id !== claim.task) throw outsideRun(path, claim);
    if (rule.fenced && raw.expected_run_id !== claim.run) {
      throw new KernelError("STALE_RUN", `a worker's call must carry its run id (expected_run_id ${claim.run})`, {
        task_id: claim.task,
        run_id: claim.run,
      });
    }
    return tenant;
  }
  const startedAt = (await board.getRun(claim.run))?.started_at ?? Number.POSITIVE_INFINITY;
  if (rule.kind === "related") {
    for (const name of rule.fields) {
      const id = field(raw, name);
      if (id === null || !(await isRelated(board, task, startedAt, id))) throw outsideRun(path, claim);
    }
    return tenant;
  }
  // create: in the task's own tenant, under tasks this run may hand work to.
  const asked = field(raw, "tenant");
  if (asked !== null && asked !== tenant) {
    throw new TRPCError({ code: "FORBIDDEN", message: "a worker creates tasks in its own task's tenant only" });
  }
  const parents = Array.isArray(raw.parents)
    ? raw.parents.filter((p): p is string => typeof p === "string").map((p) => p.trim())
    : [];
  const unknown: string[] = [];
  for (const p of parents) if (!(await isRelated(board, task, startedAt, p))) unknown.push(p);
  if (unknown.length > 0) throw invalid(`unknown parent task(s): ${unknown.join(", ")}`, { missing: unknown });
  return tenant;
}
