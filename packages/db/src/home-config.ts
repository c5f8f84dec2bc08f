import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { KanbanDbError } from "./errors.ts";

/**
 * `<KANBAN_HOME>/config.json`: dispatcher settings (Hermes' `kanban:` keys, spec §3.4) and the
 * worker profiles the dispatcher may spawn. Shared by the dispatcher (which spawns) and the API
 * (which warns when nothing would dispatch a task).
 */
const argv = z.array(z.string().min(1)).min(1);

export const profileSchema = z.strictObject({
  /** argv of the worker; may hold {task_id} {profile} {workspace} {prompt} {skills} placeholders. Never a shell string. */
  command: argv,
  env: z.record(z.string(), z.string()).default({}),
  skills: z.array(z.string().min(1)).default([]),
  model: z.string().min(1).optional(),
  description: z.string().optional(),
});
export type ProfileConfig = z.infer<typeof profileSchema>;

const positiveInt = z.number().int().min(1);

export const kanbanSettingsSchema = z.looseObject({
  dispatch_interval_seconds: z.number().min(1).default(60),
  failure_limit: positiveInt.default(2),
  max_spawn: positiveInt.nullable().default(null),
  max_in_progress: positiveInt.nullable().default(null),
  max_in_progress_per_profile: positiveInt.nullable().default(null),
  default_assignee: z.string().default(""),
  dispatch_stale_timeout_seconds: z.number().int().min(0).default(14400),
  claim_ttl_seconds: positiveInt.default(900),
  crash_grace_seconds: z.number().int().min(0).default(30),
  worker_log_rotate_bytes: z.number().int().min(0).default(2 * 1024 * 1024),
  worker_log_backup_count: z.number().int().min(0).default(1),
  /** Grace between SIGTERM and SIGKILL when a worker is terminated. */
  terminate_grace_seconds: z.number().min(0).default(5),
});
export type KanbanSettings = z.infer<typeof kanbanSettingsSchema>;

export const homeConfigSchema = z.looseObject({
  kanban: kanbanSettingsSchema.default(kanbanSettingsSchema.parse({})),
  profiles: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "profile names are lowercase letters, digits, '.', '_' and '-'"), profileSchema).default({}),
  /** Tenant-scoped API tokens: token → tenant. */
  tenant_tokens: z.record(z.string().min(16), z.string().min(1)).default({}),
});
export type HomeConfig = z.infer<typeof homeConfigSchema>;

export function homeConfigPath(home: string): string {
  return path.join(home, "config.json");
}

/** Validates a parsed config object; the error names the first offending key. */
export function parseHomeConfig(value: unknown, source = "config.json"): HomeConfig {
  const result = homeConfigSchema.safeParse(value ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "(root)";
    throw new KanbanDbError("DB_PATH_INVALID", `invalid ${source}: ${where}: ${issue?.message ?? "invalid value"}`, {
      key: where,
    });
  }
  return result.data;
}

/** Reads `<home>/config.json`; a missing file is the default config. */
export function loadHomeConfig(home: string): HomeConfig {
  const file = homeConfigPath(home);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return parseHomeConfig({});
    throw new KanbanDbError("DB_UNAVAILABLE", `cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KanbanDbError("DB_PATH_INVALID", `invalid ${file}: not JSON (${(err as Error).message})`);
  }
  return parseHomeConfig(json, file);
}
