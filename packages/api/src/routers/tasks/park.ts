import { z } from "zod";
import { fenceFields, nameSchema, reasonSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { result } from "./shared.ts";

/**
 * block and schedule: park a task (fenced when the worker itself asks), stop the worker if someone
 * else parked it, and record the reason as a comment when an author is given.
 */
function parkProcedure(verb: "blockTask" | "scheduleTask", commentPrefix: "BLOCKED" | "SCHEDULED") {
  return taskProcedure
    .input(z.object({ ...fenceFields, reason: reasonSchema.nullish(), comment_author: nameSchema.nullish() }))
    .mutation(({ ctx, input }) => {
      const board = ctx.board;
      const parked = board[verb](input.id, {
        reason: input.reason,
        expected_run_id: input.expected_run_id,
        claim_lock: input.claim_lock,
      });
      ctx.terminate(parked.terminate);
      if (input.comment_author && input.reason?.trim())
        board.addComment(input.id, input.comment_author, `${commentPrefix}: ${input.reason.trim()}`);
      return result(board, input.id);
    });
}

/** Parks a task for human input. `comment_author` also records the reason as a `BLOCKED:` comment. */
export const blockProcedure = parkProcedure("blockTask", "BLOCKED");

/** Parks a task until something external happens. `comment_author` also records a `SCHEDULED:` comment. */
export const scheduleProcedure = parkProcedure("scheduleTask", "SCHEDULED");
