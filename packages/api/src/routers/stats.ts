import { z } from "zod";
import { assigneesFor, statsFor } from "../queries/workers.ts";
import { withBoard } from "../schemas.ts";
import { publicProcedure, router } from "../trpc.ts";

const boardOnly = z.object(withBoard).prefault({});

export const statsRouter = router({
  /** Counts by status and assignee, and the age of the oldest ready task. */
  get: publicProcedure.input(boardOnly).query(({ ctx, input }) => statsFor(ctx.board(input.board), ctx.tenant)),
});

export const assigneesRouter = router({
  /** Configured profiles and the board's assignees, each with task counts per status. */
  list: publicProcedure.input(boardOnly).query(({ ctx, input }) => {
    const profiles = Object.keys(ctx.config().profiles);
    return { assignees: assigneesFor(ctx.board(input.board), profiles, ctx.tenant) };
  }),
});

export const profilesRouter = router({
  /**
   * The worker profiles of config.json: name, skills, model, description, and for the operator the
   * command line. Their env is never returned (it may hold secrets), and a tenant is not shown the
   * host's command lines (paths, flags, wrappers are the operator's business).
   */
  list: publicProcedure.query(({ ctx }) => {
    const profiles = Object.entries(ctx.config().profiles)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, p]) => ({
        name,
        command: ctx.tenant === null ? p.command : null,
        skills: p.skills,
        model: p.model ?? null,
        description: p.description ?? null,
      }));
    return { profiles };
  }),
});
