import { z } from "zod";
import { nameSchema } from "../schemas.ts";
import { boardProcedure, router } from "../trpc.ts";

/** An incident's id as a caller names it. */
const incidentIdSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/**
 * Incident folding (issue 17): outages of one profile or remote host, each paused until a probe run
 * succeeds or a person resumes it. Scoped like every board read: a tenant sees and resumes only the
 * incidents of its own cards (another's is NOT_FOUND, worded as an unknown id); the operator all.
 */
export const incidentsRouter = router({
  /** Newest first: the open ones (default), or with `all` the recent closed ones too. */
  list: boardProcedure
    .input(z.object({ all: z.boolean().default(false) }).prefault({}))
    .query(async ({ ctx, input }) => {
      return { incidents: await ctx.board.listIncidents({ open: !input.all }) };
    }),

  /** A person resumes the paused scope now; NOT_FOUND for an unknown id, CONFLICT once it is closed. */
  resume: boardProcedure
    .input(z.object({ incident_id: incidentIdSchema, by: nameSchema.nullish() }))
    .mutation(async ({ ctx, input }) => {
      const by = input.by ?? (ctx.tenant === null ? "operator" : `tenant:${ctx.tenant}`);
      return { incident: await ctx.board.resumeIncident(input.incident_id, { by }) };
    }),
});
