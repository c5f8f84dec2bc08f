import { canonicalAssignee } from "@kanban/kernel";
import { z } from "zod";
import {
  bodySchema,
  idSchema,
  metadataSchema,
  nameSchema,
  reasonSchema,
  resultSchema,
  titleSchema,
  withBoard,
} from "../../schemas.ts";
import { scopedTask } from "../../scope.ts";
import { publicProcedure } from "../../trpc.ts";
import { failureLimit, prioritySchema, result } from "./shared.ts";

const patchInput = z.object({
  ...withBoard,
  id: idSchema,
  status: z.string().max(32).optional(),
  /** null or "" unassigns. */
  assignee: nameSchema.nullable().optional(),
  priority: prioritySchema.optional(),
  title: titleSchema.optional(),
  body: bodySchema.nullable().optional(),
  /** With status=done: the completion's result / summary / metadata. */
  result: resultSchema.nullable().optional(),
  summary: resultSchema.nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
  /** With status=blocked or scheduled. */
  block_reason: reasonSchema.nullable().optional(),
  model_override: nameSchema.nullable().optional(),
  clear_model_override: z.boolean().optional(),
  max_runtime_seconds: z.number().int().min(1).nullable().optional(),
  max_retries: z.number().int().min(1).nullable().optional(),
});

/**
 * The drawer's and drag-drop's edit, applied in Hermes' order: assignee (a running, claimed task
 * refuses: 409), status (through the verb that owns it; `running` is never written directly),
 * model override, priority, then title/body and limits.
 */
export const patchProcedure = publicProcedure.input(patchInput).mutation(({ ctx, input }) => {
  const board = ctx.board(input.board);
  const id = input.id;
  const current = scopedTask(ctx, board, id);
  // One transaction: a step that is refused (an unknown status, say) undoes the steps before it,
  // so a refused patch changes nothing. The worker is stopped only once the release committed.
  const terminate = board.atomically(() => {
    // Re-sending the current assignee (a form posting every field) is not a change, even while running.
    if (input.assignee !== undefined && canonicalAssignee(input.assignee) !== current.assignee)
      board.assignTask(id, input.assignee);
    const moved =
      input.status === undefined
        ? null
        : board.moveTask(id, {
            status: input.status,
            result: input.result,
            summary: input.summary,
            metadata: input.metadata,
            reason: input.block_reason,
            failureLimit: failureLimit(ctx),
          });
    if (input.clear_model_override) board.updateTask(id, { model_override: null });
    else if (input.model_override !== undefined) board.updateTask(id, { model_override: input.model_override });
    if (input.priority !== undefined) board.updateTask(id, { priority: input.priority });
    const edits = {
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...(input.body !== undefined ? { body: input.body } : {}),
      ...(input.max_runtime_seconds !== undefined ? { max_runtime_seconds: input.max_runtime_seconds } : {}),
      ...(input.max_retries !== undefined ? { max_retries: input.max_retries } : {}),
    };
    if (Object.keys(edits).length > 0) board.updateTask(id, edits);
    return moved?.terminate;
  });
  ctx.terminate(terminate);
  return result(board, id);
});
