import { BLOCK_KINDS } from "@kanban/kernel";
import { z } from "zod";
import { fenceFields, nameSchema, reasonSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { result } from "./shared.ts";
import { usageFields, usageSchema } from "../usage.ts";

/**
 * block and schedule: park a task (fenced when the worker itself asks) and stop the worker if
 * someone else parked it. The kernel verb records the reason as a comment when an author is given,
 * in the same transaction as the status change.
 */
function parkProcedure(verb: "blockTask" | "scheduleTask") {
  // Only a block declares a kind (Hermes B: dependency, needs_input, capability, transient).
  const kind = verb === "blockTask" ? { kind: z.enum(BLOCK_KINDS).nullish() } : {};
  // A worker ends its run with complete or block (a run token may not schedule): only a block carries usage (issue 21).
  const usage = verb === "blockTask" ? { usage: usageSchema.nullish() } : {};
  return taskProcedure
    .input(
      z.object({
        ...fenceFields,
        reason: reasonSchema.nullish(),
        comment_author: nameSchema.nullish(),
        ...kind,
        ...usage,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const parked = await ctx.board[verb](input.id, {
        reason: input.reason,
        kind: "kind" in input ? (input.kind as string | null | undefined) : null,
        comment_author: input.comment_author,
        expected_run_id: input.expected_run_id,
        claim_lock: input.claim_lock,
        ...("usage" in input ? usageFields(ctx, input.usage as z.infer<typeof usageSchema> | null | undefined) : {}),
      });
      ctx.terminate(parked.terminate);
      // A re-sent block of a run that already ended blocked: the first answer again, nothing written.
      const replayed = "replayed" in parked && parked.replayed === true;
      return { ...(await result(ctx.board, input.id)), ...(replayed ? { replayed } : {}) };
    });
}

/** Parks a task for human input. `comment_author` also records the reason as a `BLOCKED:` comment. */
export const blockProcedure = parkProcedure("blockTask");

/** Parks a task until something external happens. `comment_author` also records a `SCHEDULED:` comment. */
export const scheduleProcedure = parkProcedure("scheduleTask");
