import { wrongState } from "@kanban/kernel";
import { z } from "zod";
import { nameSchema, reasonSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";

/** Changes hands; a running task needs `reclaim_first` (409 otherwise). "" or null unassigns. */
export const reassignProcedure = taskProcedure
  .input(
    z.object({
      profile: nameSchema.nullable().default(null),
      reclaim_first: z.boolean().default(false),
      reason: reasonSchema.nullish(),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const board = ctx.board;
    const profile = input.profile === null || input.profile.trim() === "" ? null : input.profile;
    const r = await board.reassignTask(input.id, profile, { reclaimFirst: input.reclaim_first, reason: input.reason });
    ctx.terminate(r.terminate);
    if (!r.ok) {
      throw wrongState(
        `cannot reassign ${input.id}: unknown id, or still running (pass reclaim_first=true to release the claim first)`,
        {
          task_id: input.id,
        },
      );
    }
    return { ok: true as const, task_id: input.id, assignee: (await board.requireTask(input.id)).assignee };
  });
