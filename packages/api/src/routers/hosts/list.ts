import { z } from "zod";
import { withBoard } from "../../schemas.ts";
import { publicProcedure } from "../../trpc.ts";

/**
 * The board's remote hosts, for people (admin: all; a tenant: its own tenant's hosts and those
 * serving every tenant). `connected`: heard from within its lease.
 */
export const listProcedure = publicProcedure.input(z.object(withBoard).prefault({})).query(async ({ ctx, input }) => {
  const rows = await ctx.board(input.board).listHosts(ctx.tenant);
  const hosts = rows
    .filter((h) => ctx.tenant === null || h.tenant === null || h.tenant === ctx.tenant)
    .map((h) => ({
      id: h.id,
      name: h.name,
      labels: h.labels,
      version: h.version,
      capacity: h.capacity,
      running: h.running,
      tenant: h.tenant,
      first_seen_at: h.first_seen_at,
      last_seen_at: h.last_seen_at,
      lease_seconds: h.lease_seconds,
      connected: h.connected,
    }));
  return { hosts };
});
