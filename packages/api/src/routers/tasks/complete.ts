import { z } from "zod";
import { fenceFields, idListSchema, metadataSchema, nameSchema, resultSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { withWarnings } from "./shared.ts";
import { usageFields, usageSchema } from "../usage.ts";

/** Completes with a structured handoff; phantom `created_cards` → 412 with the ids in `data.details.phantom`. */
export const completeProcedure = taskProcedure
  .input(
    z.object({
      ...fenceFields,
      result: resultSchema.nullish(),
      summary: resultSchema.nullish(),
      metadata: metadataSchema.nullish(),
      created_cards: idListSchema.nullish(),
      usage: usageSchema.nullish(),
      /** Who approves a card waiting for a person's approval (kept in its evidence). */
      approved_by: nameSchema.nullish(),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const done = await ctx.board.completeTask(input.id, {
      result: input.result,
      summary: input.summary,
      metadata: input.metadata,
      created_cards: input.created_cards,
      approved_by: input.approved_by,
      expected_run_id: input.expected_run_id,
      claim_lock: input.claim_lock,
      ...usageFields(ctx, input.usage),
    });
    // An unfenced completion (a person closing the card) released someone else's worker: stop it.
    ctx.terminate(done.terminate);
    // A re-sent completion of a run that already completed: the first answer again, nothing written.
    const replayed = "replayed" in done && done.replayed === true;
    // A gated card is not done yet: it waits in review at this stage of its gates.
    const gated = done.gated !== undefined ? { gated: done.gated } : {};
    return {
      task: await withWarnings(ctx.board, done.task),
      run_id: done.run_id,
      ...(replayed ? { replayed } : {}),
      ...gated,
    };
  });
