import { CHAT_TYPES, DELIVERY_MODES, notFound } from "@kanban/kernel";
import { z } from "zod";
import { idSchema, nameSchema, withBoard } from "../schemas.ts";
import { scopedTask } from "../scope.ts";
import { publicProcedure, router } from "../trpc.ts";

const keyFields = {
  ...withBoard,
  task_id: idSchema,
  platform: nameSchema.min(1),
  chat_id: nameSchema.min(1),
  thread_id: nameSchema.nullish(),
};

export const notifyRouter = router({
  /** Subscribes a chat to a task's events (idempotent on task/platform/chat/thread). */
  subscribe: publicProcedure
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
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      scopedTask(ctx, board, input.task_id);
      const { board: _b, ...sub } = input;
      return { subscription: board.addNotifySub(sub) };
    }),

  /** Subscriptions of one task, or of every task the caller may see. */
  list: publicProcedure
    .input(z.object({ ...withBoard, task_id: idSchema.nullish() }).prefault({}))
    .query(({ ctx, input }) => {
      const board = ctx.board(input.board);
      if (input.task_id) scopedTask(ctx, board, input.task_id);
      let subs = board.listNotifySubs(input.task_id ?? null);
      if (ctx.tenant !== null && !input.task_id) {
        const own = board.tenantTaskIds(ctx.tenant);
        subs = subs.filter((s) => own.has(s.task_id));
      }
      return { subscriptions: subs };
    }),

  /** Removes a subscription; NOT_FOUND when there was none. */
  unsubscribe: publicProcedure.input(z.object(keyFields)).mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    scopedTask(ctx, board, input.task_id);
    const removed = board.removeNotifySub({
      task_id: input.task_id,
      platform: input.platform,
      chat_id: input.chat_id,
      thread_id: input.thread_id,
    });
    if (!removed) throw notFound("no such subscription", { task_id: input.task_id });
    return { ok: true as const };
  }),
});
