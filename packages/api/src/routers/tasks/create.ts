import { liveDispatcherPid } from "@kanban/db";
import { invalid, parseWorkspaceSpec, type TaskView, WORKSPACE_KINDS } from "@kanban/kernel";
import { z } from "zod";
import type { KanbanContext } from "../../context.ts";
import { bodySchema, idListSchema, nameSchema, titleSchema } from "../../schemas.ts";
import { taskDto } from "../../scope.ts";
import { boardProcedure } from "../../trpc.ts";
import { prioritySchema, requiresSchema } from "./shared.ts";
import { workspaceRules } from "./workspace-rules.ts";

/**
 * Why nothing will pick a new task up, if that is the case: it is ready and assigned, but no
 * dispatcher is alive, or its assignee is not a profile the dispatcher can spawn on this host: one
 * of config.json's profiles, or with none configured (the built-in Hermes runtime) `default` or a
 * Hermes profile on disk (`ctx.knownProfiles()`, the dispatcher's own rule). A failing probe never
 * fails the create.
 */
export function dispatchWarning(
  ctx: Pick<KanbanContext, "location" | "knownProfiles" | "logger">,
  task: TaskView,
): string | null {
  if (task.status !== "ready" || !task.assignee) return null;
  try {
    if (liveDispatcherPid(ctx.location.home) === null) {
      return `no dispatcher is running: nothing will dispatch ${task.id} until one starts`;
    }
    const known = ctx.knownProfiles();
    if (known !== null && !known.names.includes(task.assignee)) {
      const what = known.source === "config" ? "a configured profile" : "a Hermes profile on this host";
      return `assignee '${task.assignee}' is not ${what} (${known.names.join(", ")}): the dispatcher will never spawn ${task.id}`;
    }
  } catch (err) {
    ctx.logger.warn("dispatch probe failed", { error: (err as Error).message });
  }
  return null;
}

const createInput = z.object({
  title: titleSchema,
  body: bodySchema.nullish(),
  assignee: nameSchema.nullish(),
  tenant: nameSchema.nullish(),
  priority: prioritySchema.default(0),
  /** The CLI's shorthand: `scratch`, `worktree`, `worktree:<abs path>`, `dir:<abs path>`. */
  workspace: z.string().max(4096).nullish(),
  workspace_kind: z.enum(WORKSPACE_KINDS).nullish(),
  workspace_path: z.string().max(4096).nullish(),
  branch_name: nameSchema.nullish(),
  parents: idListSchema.default([]),
  triage: z.boolean().default(false),
  idempotency_key: nameSchema.nullish(),
  max_runtime_seconds: z.number().int().min(1).nullish(),
  skills: z.array(nameSchema).max(100).nullish(),
  max_retries: z.number().int().min(1).nullish(),
  model_override: nameSchema.nullish(),
  created_by: nameSchema.nullish(),
  initial_status: z.enum(["running", "blocked"]).nullish(),
  session_id: nameSchema.nullish(),
  workflow_template_id: nameSchema.nullish(),
  current_step_key: nameSchema.nullish(),
  /** Labels a host must have to claim it (`macos`, `gpu`); the kernel normalises and checks them. */
  requires: requiresSchema.nullish(),
});

/** Dashboard-style create: `created_by` defaults to "dashboard"; `warning` says when nothing will dispatch it. */
export const createProcedure = boardProcedure.input(createInput).mutation(async ({ ctx, input }) => {
  const { board: _slug, workspace, ...fields } = input;
  let ws: { workspace_kind?: string | null; workspace_path?: string | null } = {};
  if (workspace) {
    if (input.workspace_kind || input.workspace_path)
      throw invalid("pass either workspace or workspace_kind/workspace_path, not both");
    ws = parseWorkspaceSpec(workspace);
  }
  // The scoped board creates in the caller's tenant whatever it asked for, and refuses another
  // tenant's parent exactly as an unknown one.
  const task = await ctx.board.createTask(
    {
      ...fields,
      ...ws,
      created_by: input.created_by ?? "dashboard",
      initial_status: input.initial_status ?? undefined,
      // A worker's card follows its own card's subscriptions (spec §7.1 B); known from the run token only.
      owner_task_id: ctx.run?.task ?? null,
    },
    workspaceRules(ctx),
  );
  const warning = dispatchWarning(ctx, task);
  return warning === null ? { task: taskDto(task) } : { task: taskDto(task), warning };
});
