import { z } from "zod";
import type { ToolContext } from "./client.ts";
import type { KanbanTool } from "./definitions.ts";

// The notify tool (issue 17): subscribe a chat to one task, to every new card of the board, or to the
// cards of one assignee. Kept apart from definitions.ts; only types are imported from it, so the two
// modules load in either order.

const SCOPES = ["task", "board", "assignee"] as const;
const PLATFORMS_HINT = "webhook, slack, discord (chat_id: a channel name of config.json), desktop, telegram…";

const inputSchema = z.object({
  scope: z
    .enum(SCOPES, { error: `scope must be one of ${SCOPES.join(", ")}` })
    .optional()
    .describe("task (default): one task; board: every card created from now on; assignee: each card of a profile."),
  task_id: z.string().max(64).optional().describe("The task, for scope task."),
  assignee: z.string().max(200).optional().describe("The profile, for scope assignee."),
  platform: z.string().min(1, { error: "platform is required" }).max(200).describe(PLATFORMS_HINT),
  chat_id: z.string().min(1, { error: "chat_id is required" }).max(200),
  thread_id: z.string().max(200).optional(),
  delivery_mode: z
    .enum(["notify", "notify+wake", "wake"], { error: "delivery_mode must be notify, notify+wake or wake" })
    .optional(),
  board: z.string().max(100).optional().describe("Board slug; default: the current board."),
});

type Args = z.infer<typeof inputSchema>;

/**
 * A refusal worded by the tool. ToolError is loaded when needed: definitions.ts imports this module
 * for its tool list, so a static import back would depend on which of the two loads first.
 */
async function refuse(message: string): Promise<never> {
  const { ToolError } = await import("./definitions.ts");
  throw new ToolError(message);
}

export const kanbanNotifySubscribe: KanbanTool<typeof inputSchema> = {
  name: "kanban_notify_subscribe",
  description:
    "Send a task's events to a chat, or with scope board / assignee add a rule so that every card created from " +
    "now on (or each card assigned to the profile) is subscribed. Returns {ok, scope, subscription | rule}.",
  orchestratorOnly: true,
  inputSchema,
  async handler(args: Args, ctx: ToolContext) {
    const scope = args.scope ?? "task";
    const boardArg = args.board?.trim() ? { board: args.board.trim() } : {};
    const key = {
      platform: args.platform.trim(),
      chat_id: args.chat_id.trim(),
      thread_id: args.thread_id?.trim() || null,
      delivery_mode: args.delivery_mode ?? null,
    };
    if (scope === "task") {
      const id = args.task_id?.trim();
      if (!id) return await refuse("task_id is required for scope task (or pass scope board / assignee)");
      if (args.assignee) return await refuse("assignee is only for scope assignee");
      const { subscription } = await ctx.client.notify.subscribe.mutate({ ...boardArg, task_id: id, ...key });
      return { ok: true, scope, subscription };
    }
    if (args.task_id) return await refuse(`task_id is only for scope task, not ${scope}`);
    if (scope === "assignee" && !args.assignee?.trim())
      return await refuse("assignee is required for scope assignee: name the profile whose cards to follow");
    if (scope === "board" && args.assignee) return await refuse("assignee is only for scope assignee");
    const { rule } = await ctx.client.notify.addRule.mutate({
      ...boardArg,
      scope,
      scope_key: scope === "assignee" ? (args.assignee?.trim() ?? null) : null,
      ...key,
    });
    return { ok: true, scope, rule };
  },
};
