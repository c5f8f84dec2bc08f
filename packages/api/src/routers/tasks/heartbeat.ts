import { wrongState } from "@kanban/kernel";
import { fenceFields, reasonSchema } from "../../schemas.ts";
import { scopedTask } from "../../scope.ts";
import { publicProcedure } from "../../trpc.ts";
import { idInput, ttlSchema } from "./shared.ts";

/** Extends the claim and records a worker heartbeat (event `heartbeat`), fenced on the run/lock. */
export const heartbeatProcedure = publicProcedure
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
  });
