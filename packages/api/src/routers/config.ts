import { z } from "zod";
import { publicProcedure, router } from "../trpc.ts";

/** Dashboard settings (`dashboard.kanban` in config.json, all optional) with Hermes' defaults. */
const dashboardSettings = z
  .looseObject({
    default_tenant: z.string().nullish(),
    lane_by_profile: z.boolean().default(true),
    include_archived_by_default: z.boolean().default(false),
    render_markdown: z.boolean().default(true),
  })
  .catch({ lane_by_profile: true, include_archived_by_default: false, render_markdown: true });

export const configRouter = router({
  get: publicProcedure.query(({ ctx }) => {
    const config = ctx.config();
    const section = (config as { dashboard?: { kanban?: unknown } }).dashboard?.kanban ?? {};
    const d = dashboardSettings.parse(section);
    const { kanban } = config;
    return {
      default_tenant: ctx.tenant ?? d.default_tenant ?? null,
      lane_by_profile: d.lane_by_profile,
      include_archived_by_default: d.include_archived_by_default,
      render_markdown: d.render_markdown,
      failure_limit: kanban.failure_limit,
      claim_ttl_seconds: kanban.claim_ttl_seconds,
      dispatch_interval_seconds: kanban.dispatch_interval_seconds,
    };
  }),
});
