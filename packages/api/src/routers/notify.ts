import { CHAT_TYPES, DELIVERY_MODES, notFound } from "@kanban/kernel";
import { z } from "zod";
import { idSchema, nameSchema } from "../schemas.ts";
import { boardProcedure, router, taskIdProcedure } from "../trpc.ts";

const keyFields = {
  platform: nameSchema.min(1),
  chat_id: nameSchema.min(1),
  thread_id: nameSchema.nullish(),
};

export const notifyRouter = router({
  /** Subscribes a chat to a task's events (idempotent on task/platform/chat/thread). */
  subscribe: taskIdProcedure
    .input(
      z.object({
        ...keyFields,
        user_id: nameSchema.nullish(),
        user_id_alt: nameSchema.nullish(),
        chat_type: z.enum(CHAT_TYPES).nullish(),
        notifier_profile: nameSchema.nullish(),
        delivery_mode: z.enum(DELIVERY_MODES).nullish(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { board: _b, ...sub } = input;
      return { subscription: await ctx.board.addNotifySub(sub) };
    }),

  /** Subscriptions of one task, or of every task the caller may see. */
  list: boardProcedure.input(z.object({ task_id: idSchema.nullish() }).prefault({})).query(async ({ ctx, input }) => {
    // An unknown task, or another tenant's, is NOT_FOUND; without one, a tenant lists its tasks' only.
    if (input.task_id) await ctx.board.requireTask(input.task_id);
    return { subscriptions: await ctx.board.listNotifySubs(input.task_id ?? null) };
  }),

  /** Removes a subscription; NOT_FOUND when there was none. */
  unsubscribe: taskIdProcedure.input(z.object(keyFields)).mutation(async ({ ctx, input }) => {
    const removed = await ctx.board.removeNotifySub({
      task_id: input.task_id,
      platform: input.platform,
      chat_id: input.chat_id,
      thread_id: input.thread_id,
    });
    if (!removed) throw notFound("no such subscription", { task_id: input.task_id });
    return { ok: true as const };
  }),
});
