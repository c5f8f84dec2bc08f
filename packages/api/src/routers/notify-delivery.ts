import { DELIVERY_LOG_MAX_LIMIT, invalid, notFound } from "@kanban/kernel";
import { type Channel, isChannelType, sendNotification, taskLink, testMessage } from "@kanban/notify";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { idSchema, nameSchema } from "../schemas.ts";
import { boardProcedure, router, taskIdProcedure } from "../trpc.ts";

/**
 * Notifications that arrive (issue 17): a test message through a configured channel, and the
 * delivery log. The channel's URL and secret stay in config.json: nothing here returns, logs or
 * echoes them (errors come from @kanban/notify, which redacts them). Both procedures act on tasks
 * the caller sees: a tenant's token reaches its own tasks only.
 */
export const notifyDeliveryRouter = router({
  /** Sends a test message to `platform`/`chat_id` (a `notify_channels` entry) now; the outcome, logged as a `test` row. */
  test: taskIdProcedure
    .input(z.object({ platform: nameSchema.min(1), chat_id: nameSchema.min(1), thread_id: nameSchema.nullish() }))
    .mutation(async ({ ctx, input }) => {
      const config = ctx.config();
      if (!isChannelType(input.platform))
        throw invalid(
          `notify-test sends through notify_channels (platforms webhook, slack, discord); '${input.platform}' is delivered elsewhere`,
          { platform: input.platform },
        );
      const entry = config.notify_channels[input.chat_id];
      if (!entry || entry.type !== input.platform)
        throw notFound(`no ${input.platform} channel named '${input.chat_id}' in notify_channels (config.json)`, {
          platform: input.platform,
          chat_id: input.chat_id,
        });
      const channel: Channel = { name: input.chat_id, ...entry };
      const board = ctx.board.slug ?? input.board ?? "default";
      const task = ctx.task;
      const message = testMessage(
        board,
        { id: task.id, title: task.title, status: task.status, assignee: task.assignee ?? null },
        taskLink(config.kanban.public_url, board, task.id),
      );
      const deliveryId = `test.${randomUUID()}`;
      const res = await sendNotification(channel, message, {
        deliveryId,
        timestampSeconds: ctx.board.now(),
      });
      await ctx.board.recordNotifyDelivery({
        task_id: task.id,
        platform: input.platform,
        chat_id: input.chat_id,
        thread_id: input.thread_id ?? "",
        kind: "test",
        outcome: "test",
        http_status: res.status,
        error: res.outcome === "delivered" ? null : (res.error ?? res.outcome),
        duration_ms: res.duration_ms,
      });
      return {
        ok: res.outcome === "delivered",
        outcome: res.outcome,
        http_status: res.status,
        error: res.error,
        duration_ms: res.duration_ms,
        delivery_id: deliveryId,
      };
    }),

  /** The delivery log, newest first: one task's (optionally one subscription's), or every visible task's. */
  log: boardProcedure
    .input(
      z
        .object({
          task_id: idSchema.nullish(),
          platform: nameSchema.nullish(),
          chat_id: nameSchema.nullish(),
          thread_id: nameSchema.nullish(),
          limit: z.number().int().min(1).max(DELIVERY_LOG_MAX_LIMIT).nullish(),
        })
        .prefault({}),
    )
    .query(async ({ ctx, input }) => ({
      deliveries: await ctx.board.listNotifyDeliveries({
        task_id: input.task_id ?? null,
        platform: input.platform ?? null,
        chat_id: input.chat_id ?? null,
        thread_id: input.thread_id ?? null,
        limit: input.limit ?? 50,
      }),
    })),
});
