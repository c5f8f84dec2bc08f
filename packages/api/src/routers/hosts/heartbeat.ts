import { z } from "zod";
import { hostIdSchema, hostLeaseSeconds, hostProcedure, hostRunsSchema, requireOwnHost } from "./shared.ts";

/**
 * A host's heartbeat renews the leases of all the runs it names that are still its own (one
 * write), and answers which of them are not (`revoked`): reclaimed while it was silent, cancelled,
 * or settled by someone else. The host stops those workers.
 */
export const heartbeatProcedure = hostProcedure
  .input(z.object({ host_id: hostIdSchema, running: z.number().int().min(0).max(100_000), runs: hostRunsSchema }))
  .mutation(async ({ ctx, input }) => {
    const lease = hostLeaseSeconds(ctx);
    await requireOwnHost(ctx.hostBoard, input.host_id, ctx.caller);
    const answer = await ctx.hostBoard.hostHeartbeat({
      host_id: input.host_id,
      running: input.running,
      runs: input.runs,
      lease_seconds: lease,
    });
    return { lease_seconds: lease, revoked: answer.revoked };
  });
