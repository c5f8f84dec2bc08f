import { type Board, KernelError, notFound, type TaskRun } from "@kanban/kernel";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { HostCaller } from "../../auth.ts";
import type { KanbanContext } from "../../context.ts";
import { withBoard } from "../../schemas.ts";
import { publicProcedure } from "../../trpc.ts";

// What the `hosts.*` procedures share: who may call them (a host token, nobody else), the shapes
// of a host's identity and labels, and the lease it is given.

/** A host's id, as `kanban-dispatcher --server` keeps it in `<home>/kanban/host.json`. */
export const hostIdSchema = z
  .string()
  .trim()
  .regex(/^kh-[0-9a-f]{16}$/, "a host id is kh- and 16 hex digits (kept in <home>/kanban/host.json)");

/** A label as tasks require it (the kernel's rule): lower-cased and trimmed. */
export const labelSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,63}$/,
    "labels are 1-64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit",
  );

export const labelsSchema = z.array(labelSchema).max(32);

/** Run ids a host says it is working on (each renewed, or reported back as revoked). */
export const hostRunsSchema = z.array(z.number().int().min(1)).max(1024);

export const pidSchema = z
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);

/** Lease of a host's claims, from config.json's `kanban.host_lease_seconds` (30 by default). */
export function hostLeaseSeconds(ctx: Pick<KanbanContext, "config">): number {
  return ctx.config().kanban.host_lease_seconds;
}

/** How often a host heartbeats: three beats per lease, so one lost beat costs nothing. */
export function heartbeatSeconds(lease: number): number {
  return Math.max(1, Math.floor(lease / 3));
}

/**
 * The six procedures a host calls: only a host token reaches them (admin, tenant and run tokens
 * are refused, FORBIDDEN), and `ctx.hostBoard` is the board the request names, unscoped (a host's
 * tenant is enforced by the kernel's claim and by {@link requireOwnHost}), `ctx.caller` its grant.
 */
export const hostProcedure = publicProcedure.input(z.object(withBoard).prefault({})).use(({ ctx, input, next }) => {
  if (!ctx.host) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "only a remote host's token (config.json host_tokens) may call hosts.* verbs",
    });
  }
  return next({ ctx: { caller: ctx.host, hostBoard: ctx.board(input.board), boardSlug: ctx.slug(input.board) } });
});

/**
 * Refuses a host id that was registered under another tenant than the caller's token grants: a
 * host token must not renew, claim for or report on a host of another tenant by naming its id.
 * Returns the row (null when the host never said hello on this board).
 */
export async function ownHostRow(board: Board, hostId: string, caller: HostCaller) {
  const row = await board.getHost(hostId);
  if (row !== null && (row.tenant ?? null) !== caller.tenant) {
    // Worded like an unknown host: the id of another tenant's host is not this caller's to learn.
    throw notFound(`host ${hostId} is not known; send hosts.hello first`, { host_id: hostId });
  }
  return row;
}

/** The host's row, which `hosts.hello` creates; every other verb needs it. */
export async function requireOwnHost(board: Board, hostId: string, caller: HostCaller) {
  const row = await ownHostRow(board, hostId, caller);
  if (row === null) throw notFound(`host ${hostId} is not known; send hosts.hello first`, { host_id: hostId });
  return row;
}

/**
 * Who claimed a run and which worker it started: while the run is open its row says (claim lock,
 * worker pid); once it ended the row's are cleared, and its `claimed` and `spawned` events say.
 */
async function runHolder(board: Board, run: TaskRun): Promise<{ lock: string | null; pid: number | null }> {
  if (run.ended_at === null) return { lock: run.claim_lock, pid: run.worker_pid };
  const events = await board.eventsAfter(0, { task_id: run.task_id, kinds: ["claimed", "spawned"], limit: 1000 });
  let lock: string | null = null;
  let pid: number | null = null;
  for (const e of events) {
    if (e.run_id !== run.id) continue;
    if (e.kind === "claimed" && typeof e.payload?.lock === "string") lock = e.payload.lock;
    if (e.kind === "spawned" && typeof e.payload?.pid === "number") pid = e.payload.pid;
  }
  return { lock, pid };
}

/**
 * A run this host holds or held: it was claimed with the host's lock `<host_id>:<pid>`, and its
 * task is in the host's tenant. Anything else is NOT_FOUND, worded like an unknown run. Returns the
 * run, its task and the pid of its worker (null when none was reported).
 */
export async function requireHostRun(board: Board, hostId: string, caller: HostCaller, runId: number) {
  await requireOwnHost(board, hostId, caller);
  const gone = () => notFound(`run ${runId} is not one of host ${hostId}'s runs`, { run_id: runId });
  let run: TaskRun;
  try {
    run = await board.getRun(runId);
  } catch (err) {
    if (err instanceof KernelError && err.code === "NOT_FOUND") throw gone();
    throw err;
  }
  const holder = await runHolder(board, run);
  if (!(holder.lock ?? "").startsWith(`${hostId}:`)) throw gone();
  const task = await board.getTask(run.task_id);
  if (task === null || (caller.tenant !== null && task.tenant !== caller.tenant)) throw gone();
  return { run, task, workerPid: holder.pid };
}
