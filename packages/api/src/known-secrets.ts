import { secretValuesOf } from "@kanban/contract";
import type { KanbanContext } from "./context.ts";

/**
 * The secret values this server knows of, to cut from worker text it serves (`tasks.log`): its
 * tenant and host tokens, the remote token and every profile's secret-looking environment values
 * from config.json, and the secret-looking variables of its own environment (an admin token among
 * them). Shapes (run tokens, provider keys, passwords in URLs) are cut by redactSecrets itself.
 */
export function knownSecrets(ctx: Pick<KanbanContext, "config">, env: NodeJS.ProcessEnv = process.env): string[] {
  const cfg = ctx.config();
  const out = [...Object.keys(cfg.tenant_tokens), ...Object.keys(cfg.host_tokens), ...secretValuesOf(env)];
  if (cfg.remote?.token) out.push(cfg.remote.token);
  for (const profile of Object.values(cfg.profiles)) out.push(...secretValuesOf(profile.env ?? {}));
  return out;
}
