import { scopeBoard } from "@kanban/kernel";
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError, z } from "zod";
import type { KanbanContext } from "./context.ts";
import { isKanbanError, toTRPCError } from "./errors.ts";
import { type RunScoped, runScope as runScopeOf } from "./run-scope.ts";
import { idSchema, rawInputProblem, withBoard } from "./schemas.ts";

/** `title: Too big: expected string to have <=500 characters; board: …` — one line a CLI can print. */
function describeZodError(err: ZodError): string {
  return err.issues.map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

/**
 * The one tRPC instance. No transformer: every DTO is plain JSON so that curl and any HTTP client
 * can talk to the API. `isDev: false` keeps stack traces out of every response.
 */
const t = initTRPC.context<KanbanContext & RunScoped>().create({
  isDev: false,
  sse: {
    // A comment every 15 s keeps idle proxies from cutting a quiet stream; the client reconnects
    // (resuming from its last event id) when it hears nothing for 45 s.
    ping: { enabled: true, intervalMs: 15_000 },
    client: { reconnectAfterInactivityMs: 45_000 },
  },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const { stack: _stack, ...data } = shape.data as typeof shape.data & { stack?: string };
    return {
      ...shape,
      data: {
        ...data,
        kanbanCode: isKanbanError(cause) ? cause.code : null,
        details: isKanbanError(cause) && Object.keys(cause.details).length > 0 ? cause.details : null,
        zodError: cause instanceof ZodError ? z.flattenError(cause) : null,
      },
    };
  },
});

/**
 * Maps whatever a procedure (or its input parser) failed with through the error table, so a
 * kernel refusal becomes its 4xx and a bug becomes a logged, generic 500.
 */
const mapErrors = t.middleware(async ({ ctx, next, path, type }) => {
  const result = await next();
  if (result.ok) {
    // Live subscribers of this process hear about our own writes now, not at the next poll.
    if (type === "mutation") ctx.live.pokeAll();
    return result;
  }
  const err = result.error;
  if (err.code === "BAD_REQUEST" && err.cause instanceof ZodError) {
    throw new TRPCError({ code: "BAD_REQUEST", message: describeZodError(err.cause), cause: err.cause });
  }
  // Server paths (board files, the home) are for the operator: only admin callers see them.
  throw toTRPCError(err, ctx.logger, path, { revealPaths: ctx.tenant === null && !ctx.run && !ctx.host });
});

/**
 * Refuses text SQLite cannot store as sent (a lone surrogate would be written as invalid UTF-8 and
 * read back as replacement characters) and input nested so deep that parsing it would overflow
 * the stack, before any schema walks it.
 */
const wellFormedInput = t.middleware(async ({ next, getRawInput }) => {
  const problem = rawInputProblem(await getRawInput());
  if (problem !== null) throw new TRPCError({ code: "BAD_REQUEST", message: problem });
  return next();
});

/**
 * A worker's run token reaches only its own run's task (and what it hands work to); its requests
 * act in that task's tenant. Other callers pass through untouched.
 */
const runScope = t.middleware(async ({ ctx, next, path, getRawInput }) => {
  const overrides = await runScopeOf(ctx, path, ctx.run ? await getRawInput() : undefined);
  return overrides === undefined ? next() : next({ ctx: overrides });
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/** Every procedure starts here: errors mapped, nothing else assumed. */
export const publicProcedure = t.procedure.use(mapErrors).use(wellFormedInput).use(runScope);

/**
 * Board-wide administration (boards, dispatcher details, recompute). A tenant-scoped token sees
 * only its own tenant's tasks, so it may not touch what spans every tenant.
 */
export const adminProcedure = publicProcedure.use(({ ctx, next }) => {
  if (ctx.tenant !== null) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "this operation spans every tenant; a tenant-scoped token cannot use it",
    });
  }
  return next();
});

/**
 * Every procedure that reads or writes one board: `ctx.board` is the board the request names (else
 * the current one) seen through the caller's scope (the kernel's ScopedBoard), so a read lists only
 * the caller's tenant and a verb refuses another tenant's task as an unknown id. A procedure adds
 * its own fields with a further `.input(...)` (tRPC merges them).
 */
export const boardProcedure = publicProcedure
  .input(z.object(withBoard).prefault({}))
  .use(({ ctx, input, next }) => next({ ctx: { board: scopeBoard(ctx.board(input.board), { tenant: ctx.tenant }) } }));

/**
 * Every procedure that names one task (`{ board?, id }`): `ctx.task` is that task, read through the
 * scope, so a task of another tenant is NOT_FOUND worded exactly like an unknown id before the
 * procedure runs, and `ctx.board` is the scoped board every verb of the procedure goes through.
 */
export const taskProcedure = boardProcedure
  .input(z.object({ id: idSchema }))
  .use(async ({ ctx, input, next }) => next({ ctx: { task: await ctx.board.requireTask(input.id) } }));

/** {@link taskProcedure} for the procedures whose input names their task `task_id` (runs, comments, notify). */
export const taskIdProcedure = boardProcedure
  .input(z.object({ task_id: idSchema }))
  .use(async ({ ctx, input, next }) => next({ ctx: { task: await ctx.board.requireTask(input.task_id) } }));
