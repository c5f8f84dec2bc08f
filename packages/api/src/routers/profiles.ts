import { publicProcedure, router } from "../trpc.ts";

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
