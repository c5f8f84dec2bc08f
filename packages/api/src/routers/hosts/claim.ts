import { mintRunToken } from "@kanban/db";
import { boardKey } from "@kanban/process";
import { z } from "zod";
import { type TaskDto, taskDto } from "../../scope.ts";
import { hostIdSchema, hostLeaseSeconds, hostProcedure, pidSchema, requireOwnHost } from "./shared.ts";

/** Profiles (assignees) a host can spawn; the kernel's profile-name rule. */
const profileSchema = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "not a profile name");

/**
 * A host claims up to `max` ready tasks it can run: every label a task requires must be among the
 * labels of its hello (never this input's), its token's tenant confines it to that tenant's tasks,
 * and `profiles` (null: any) are the assignees it can spawn. Each claim comes with a run token
 * minted here, for that run alone (the server holds the home's secret; the host never does), and
 * the board key its worker's processes carry as their marker.
 */
export const claimProcedure = hostProcedure
  .input(
    z.object({
      host_id: hostIdSchema,
      max: z.number().int().min(1).max(16),
      profiles: z.array(profileSchema).max(256).nullable(),
      /** The host dispatcher's pid: the claim lock is `<host_id>:<pid>`. */
      pid: pidSchema.nullish(),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const board = ctx.hostBoard;
    const row = await requireOwnHost(board, input.host_id, ctx.caller);
    const lease = hostLeaseSeconds(ctx);
    const profiles = input.profiles === null ? null : new Set(input.profiles);
    const result = await board.claimForHost({
      host_id: input.host_id,
      pid: input.pid ?? 0,
      labels: row.labels,
      tenant: ctx.caller.tenant,
      max: input.max,
      lease_seconds: lease,
      ...(profiles === null ? {} : { isSpawnable: (p: string) => profiles.has(p) }),
    });
    const key = boardKey(board.path);
    const claims: {
      task: TaskDto;
      run_id: number;
      run_token: string;
      board: string;
      board_key: string;
      lease_seconds: number;
    }[] = [];
    for (const c of result.claimed) {
      const task = await board.getTask(c.task_id);
      if (task === null || task.current_run_id === null) continue;
      const run = task.current_run_id;
      claims.push({
        task: taskDto(task),
        run_id: run,
        run_token: mintRunToken(ctx.location.home, { board: ctx.boardSlug, task: task.id, run }),
        board: ctx.boardSlug,
        board_key: key,
        lease_seconds: lease,
      });
    }
    if (claims.length > 0)
      ctx.logger.info("host claimed", {
        host_id: input.host_id,
        tasks: claims.map((c) => `${c.task.id}#${c.run_id}`).join(","),
      });
    return { claims };
  });
