import { CHAT_TYPES, DELIVERY_MODES, NOTIFY_RULE_SCOPES, notFound } from "@kanban/kernel";
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

  /** Subscriptions of one task, or of every task the caller may see; `platform` keeps only that platform's. */
  list: boardProcedure
    .input(z.object({ task_id: idSchema.nullish(), platform: nameSchema.nullish() }).prefault({}))
    .query(async ({ ctx, input }) => {
      // An unknown task, or another tenant's, is NOT_FOUND; without one, a tenant lists its tasks' only.
      if (input.task_id) await ctx.board.requireTask(input.task_id);
      const subs = await ctx.board.listNotifySubs(input.task_id ?? null);
      // The board tab asks for its `desktop` rows only: a small answer however many chats follow the board.
      return { subscriptions: input.platform ? subs.filter((s) => s.platform === input.platform) : subs };
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

  /**
   * Adds a board or assignee rule (idempotent on scope/key/platform/chat/thread): every card created
   * from now on that matches it (and every card assigned to the rule's profile) gets the subscription.
   * A tenant's rule matches only that tenant's cards; an operator's may name a tenant, or none (all).
   */
  addRule: boardProcedure
    .input(
      z.object({
        scope: z.enum(NOTIFY_RULE_SCOPES, { error: `scope must be one of ${NOTIFY_RULE_SCOPES.join(", ")}` }),
        scope_key: nameSchema.nullish(),
        ...keyFields,
        user_id: nameSchema.nullish(),
        chat_type: z.enum(CHAT_TYPES).nullish(),
        notifier_profile: nameSchema.nullish(),
        delivery_mode: z.enum(DELIVERY_MODES).nullish(),
        tenant: nameSchema.nullish(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { board: _b, ...rule } = input;
      return { rule: await ctx.board.addNotifyRule(rule) };
    }),

  /** The rules the caller may see: every rule for the operator, a tenant's own for a tenant. */
  rules: boardProcedure.query(async ({ ctx }) => ({ rules: await ctx.board.listNotifyRules() })),

  /** Removes a rule; NOT_FOUND when there was none (or it is another tenant's). Cards keep what it gave them. */
  removeRule: boardProcedure.input(z.object({ rule_id: z.number().int().min(1) })).mutation(async ({ ctx, input }) => {
    if (!(await ctx.board.removeNotifyRule(input.rule_id)))
      throw notFound(`no such rule ${input.rule_id}`, { rule_id: input.rule_id });
    return { ok: true as const };
  }),
});
