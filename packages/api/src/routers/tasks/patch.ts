import { z } from "zod";
import { bodySchema, metadataSchema, nameSchema, reasonSchema, resultSchema, titleSchema } from "../../schemas.ts";
import { taskDto } from "../../scope.ts";
import { taskProcedure } from "../../trpc.ts";
import { prioritySchema, requiresSchema } from "./shared.ts";

const patchInput = z.object({
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
  /** Replaces the labels a host must have to claim it ([] = none). */
  requires: requiresSchema.optional(),
});

/**
 * The drawer's and drag-drop's edit, applied in Hermes' order: assignee (a running, claimed task
 * refuses: 409), status (through the verb that owns it; `running` is never written directly),
 * model override, priority, then title/body and limits.
 */
export const patchProcedure = taskProcedure.input(patchInput).mutation(async ({ ctx, input }) => {
  // One kernel verb, one transaction: a refused step undoes the ones before it (patch.ts). The
  // worker is stopped only once the release committed.
  const { board: _board, id, ...patch } = input;
  const out = await ctx.board.patchTask(id, patch);
  ctx.terminate(out.terminate);
  return { task: taskDto(out.task) };
});
