import { wrongState } from "@kanban/kernel";
import { z } from "zod";
import { fenceFields, reasonSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { ttlSchema } from "./shared.ts";

/** Extends the claim and records a worker heartbeat (event `heartbeat`), fenced on the run/lock. */
export const heartbeatProcedure = taskProcedure
  .input(z.object({ ...fenceFields, note: reasonSchema.nullish(), ttl_seconds: ttlSchema.nullish() }))
  .mutation(({ ctx, input }) => {
    const board = ctx.board;
    const fence = { expected_run_id: input.expected_run_id, claim_lock: input.claim_lock };
    if (!board.heartbeatClaim(input.id, { ...fence, ttl_seconds: input.ttl_seconds })) {
      throw wrongState(`cannot heartbeat ${input.id} (not running?)`, { task_id: input.id });
    }
    board.heartbeatWorker(input.id, { ...fence, note: input.note });
    return { ok: true as const, task_id: input.id };
  });
