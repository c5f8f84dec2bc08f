import { z } from "zod";
import { hostIdSchema, hostProcedure, pidSchema, requireHostRun } from "./shared.ts";

const runIdSchema = z.number().int().min(1);

/** The host started the run's worker: its pid is recorded on the run and the task (`spawned`). */
export const spawnedProcedure = hostProcedure
  .input(z.object({ host_id: hostIdSchema, run_id: runIdSchema, pid: pidSchema }))
  .mutation(async ({ ctx, input }) => {
    const { task } = await requireHostRun(ctx.hostBoard, input.host_id, ctx.caller, input.run_id);
    await ctx.hostBoard.recordSpawn(task.id, input.pid, input.run_id);
    return { ok: true as const };
  });

/**
 * The run's worker exited without a terminal call the server heard: while the run is still its
 * task's current one that is the crash path (failure counted, last output kept); otherwise it is
 * ignored (the run ended some other way first).
 */
export const exitedProcedure = hostProcedure
  .input(
    z.object({
      host_id: hostIdSchema,
      run_id: runIdSchema,
      exit_code: z.number().int().nullable(),
      signal: z.string().max(32).nullable(),
      output_tail: z
        .string()
        .max(64 * 1024)
        .nullish(),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    await requireHostRun(ctx.hostBoard, input.host_id, ctx.caller, input.run_id);
    return await ctx.hostBoard.recordRemoteExit(input.run_id, {
      exit_code: input.exit_code,
      signal: input.signal,
      output_tail: input.output_tail ?? null,
    });
  });

/**
 * The host stopped an ended run's process tree (revoked, cancelled): recorded on the task as
 * `terminal_worker_reaped`, as a local dispatcher's containment sweep records it. `killed` is the
 * list of pids SIGKILL was needed for (or only their number).
 */
export const stoppedProcedure = hostProcedure
  .input(
    z.object({
      host_id: hostIdSchema,
      run_id: runIdSchema,
      pids: z.array(pidSchema).max(4096),
      killed: z.union([z.array(pidSchema).max(4096), z.number().int().min(0).max(4096)]),
      sigkill: z.boolean().nullish(),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const { run, workerPid } = await requireHostRun(ctx.hostBoard, input.host_id, ctx.caller, input.run_id);
    // A host that reports only how many were killed does not say which: the event then lists
    // that many of the stopped pids, so its count and its "SIGKILL needed" stay exact.
    const killed = Array.isArray(input.killed)
      ? input.killed
      : input.pids.slice(0, input.killed || (input.sigkill ? 1 : 0));
    const recorded = await ctx.hostBoard.recordTreeStopped(
      run.task_id,
      input.run_id,
      {
        pids: input.pids,
        killed,
        run_outcome: run.outcome ?? run.status,
        by: `host ${ctx.caller.name ?? input.host_id}`,
      },
      workerPid,
    );
    return { recorded };
  });
