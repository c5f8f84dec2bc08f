import { z } from "zod";
import {
  heartbeatSeconds,
  hostIdSchema,
  hostLeaseSeconds,
  hostProcedure,
  hostRunsSchema,
  labelsSchema,
  ownHostRow,
} from "./shared.ts";

/**
 * A host (re)connects: its row is created or updated (labels, version, capacity; its tenant is the
 * token's, its name the token's when the token names it), the runs it still works on are renewed,
 * and those that are no longer its own are listed in `revoked`: the host stops their workers before
 * it claims anything new.
 */
export const helloProcedure = hostProcedure
  .input(
    z.object({
      host_id: hostIdSchema,
      name: z.string().trim().min(1).max(64).nullish(),
      labels: labelsSchema.default([]),
      version: z.string().trim().max(100).nullish(),
      capacity: z.number().int().min(0).max(1024),
      runs: hostRunsSchema.default([]),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const lease = hostLeaseSeconds(ctx);
    await ownHostRow(ctx.hostBoard, input.host_id, ctx.caller);
    const labels = [...new Set(input.labels)].sort();
    const name = ctx.caller.name ?? input.name ?? null;
    const answer = await ctx.hostBoard.hostHello({
      host_id: input.host_id,
      name,
      labels,
      version: input.version ?? null,
      capacity: input.capacity,
      tenant: ctx.caller.tenant,
      lease_seconds: lease,
      runs: input.runs,
    });
    ctx.logger.info("host hello", {
      host_id: input.host_id,
      name,
      labels: labels.join(","),
      runs: input.runs.length,
      revoked: answer.revoked.length,
    });
    return {
      host_id: input.host_id,
      lease_seconds: lease,
      heartbeat_seconds: heartbeatSeconds(lease),
      revoked: answer.revoked,
    };
  });
