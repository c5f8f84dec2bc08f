import { z } from "zod";
import { fenceFields, reasonSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { ttlSchema } from "./shared.ts";
import { usageFields, usageSchema } from "../usage.ts";

/** Extends the claim and records a worker heartbeat (event `heartbeat`) in one kernel write, fenced on the run/lock. */
export const heartbeatProcedure = taskProcedure
  .input(
    z.object({
      ...fenceFields,
      note: reasonSchema.nullish(),
      ttl_seconds: ttlSchema.nullish(),
      usage: usageSchema.nullish(),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    await ctx.board.heartbeat(input.id, {
      expected_run_id: input.expected_run_id,
      claim_lock: input.claim_lock,
      note: input.note,
      ttl_seconds: input.ttl_seconds,
      ...usageFields(ctx, input.usage),
    });
    return { ok: true as const, task_id: input.id };
  });
