import { secretValuesOf } from "@kanban/contract";
import type { DispatcherConfig } from "./config.ts";

/**
 * The secret values a worker could echo: those of the environment workers inherit and of each
 * profile's own `env` (by their names, see secretValuesOf), and this dispatcher's own API token.
 */
export function workerSecrets(cfg: Pick<DispatcherConfig, "baseEnv" | "runtime" | "apiToken">): string[] {
  const out = secretValuesOf(cfg.baseEnv);
  if (cfg.runtime.kind === "profiles")
    for (const profile of Object.values(cfg.runtime.profiles)) out.push(...secretValuesOf(profile.env ?? {}));
  if (cfg.apiToken) out.push(cfg.apiToken);
  return out;
}
