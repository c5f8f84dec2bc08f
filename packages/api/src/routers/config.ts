import { z } from "zod";
import type { KanbanContext } from "../context.ts";
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

/**
 * What a tenant caller is told about a broken config.json: that it is broken, not what is in it
 * (the operator's line may name keys, profiles or other tenants).
 */
export const TENANT_CONFIG_ERROR =
  "the server's config.json is invalid; the operator has to fix it (the last valid settings stay in use)";

/**
 * The state of `<home>/config.json` as the board shows it: the snapshot never throws for the
 * file's content, so a typo in the file shows up as a banner instead of taking the board down.
 */
function configState(ctx: KanbanContext) {
  const snapshot = ctx.configSnapshot();
  const admin = ctx.tenant === null;
  return {
    config: snapshot.config,
    error: snapshot.error === null ? null : admin ? snapshot.error : TENANT_CONFIG_ERROR,
    // Warnings name tenants and profiles: operator business.
    warnings: admin ? snapshot.warnings : [],
  };
}

/** Who a worker can be started for, by the dispatcher's own rule; null while config.json is invalid. */
function knownProfilesOf(ctx: KanbanContext): { source: "config" | "hermes"; names: string[] } | null {
  try {
    const k = ctx.knownProfiles();
    return k === null ? null : { source: k.source, names: k.names };
  } catch {
    return null;
  }
}

export const configRouter = router({
  /**
   * Board settings plus the health of config.json (`config_error`: one line, null when the file is
   * valid or missing; `config_warnings`: entries that were ignored). Never includes a token. The
   * board polls it, so it doubles as the board's "is the server there" probe.
   */
  get: publicProcedure.query(({ ctx }) => {
    const { config, error, warnings } = configState(ctx);
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
      config_error: error,
      config_warnings: warnings,
      // Who a worker can be started for (configured profiles, else default + Hermes profiles on
      // disk): the create dialog warns before a card is given to anyone else.
      known_profiles: knownProfilesOf(ctx),
    };
  }),
});
