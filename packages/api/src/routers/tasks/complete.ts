import { fenceFields, idListSchema, metadataSchema, resultSchema } from "../../schemas.ts";
import { scopedTask, taskDto } from "../../scope.ts";
import { publicProcedure } from "../../trpc.ts";
import { failureLimit, idInput, workerReleasedByOthers } from "./shared.ts";

/** Completes with a structured handoff; phantom `created_cards` → 412 with the ids in `data.details.phantom`. */
export const completeProcedure = publicProcedure
  .input(
    idInput.extend({
      ...fenceFields,
      result: resultSchema.nullish(),
      summary: resultSchema.nullish(),
      metadata: metadataSchema.nullish(),
      created_cards: idListSchema.nullish(),
    }),
  )
  .mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    const stop = workerReleasedByOthers(board, scopedTask(ctx, board, input.id), input);
    const done = board.completeTask(input.id, {
      result: input.result,
      summary: input.summary,
      metadata: input.metadata,
      created_cards: input.created_cards,
      expected_run_id: input.expected_run_id,
      claim_lock: input.claim_lock,
      // The live setting: the board was opened with the value of that moment.
      failureLimit: failureLimit(ctx),
    });
    ctx.terminate(stop);
    return { task: taskDto({ ...done.task, warnings: null }), run_id: done.run_id };
  });
