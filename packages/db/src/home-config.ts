import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { closestName } from "./edit-distance.ts";
import { KanbanDbError } from "./errors.ts";
import { describeJsonError } from "./json-syntax.ts";

/**
 * `<KANBAN_HOME>/config.json`: dispatcher settings (Hermes' `kanban:` keys, spec §3.4), the worker
 * profiles the dispatcher may spawn, tenant tokens, and the board's `dashboard` preferences. Shared
 * by the dispatcher (which spawns) and the API (which authenticates and warns). Unknown keys are
 * refused with the nearest known name, so a misspelt setting is never silently ignored.
 */
const argv = z.array(z.string().min(1)).min(1);

const SIZE_UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** A size in bytes, written as a number of bytes or a string with an optional K/M/G/T suffix (powers of 1024). */
const memorySize = z.union([
  z
    .number()
    .int()
    .min(1024 * 1024),
  z
    .string()
    .regex(/^\s*\d+(\.\d+)?\s*[KMGT]?i?B?\s*$/i, 'a size such as "512M", "2G" or a number of bytes')
    .transform((s, ctx) => {
      const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)/i.exec(s) as RegExpExecArray;
      const bytes = Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] ?? "").toUpperCase()] ?? 1));
      if (bytes < 1024 * 1024) {
        ctx.addIssue({
          code: "custom",
          message: "must be at least 1M (a smaller limit would kill any worker at once)",
        });
        return z.NEVER;
      }
      return bytes;
    }),
]);

/** Dollars per million tokens, at most six decimals (the kernel keeps money in whole micro-dollars). */
const usdPerMtok = z
  .number()
  .min(0)
  .max(1_000_000)
  .refine((n) => Math.abs(n * 1e6 - Math.round(n * 1e6)) < 1e-6, "at most six decimals");

/** A model's prices (issue 21): what a worker's tokens cost when the worker does not say. */
export const modelPriceSchema = z.strictObject({
  input_per_mtok: usdPerMtok,
  output_per_mtok: usdPerMtok,
  cache_read_per_mtok: usdPerMtok.optional(),
  cache_write_per_mtok: usdPerMtok.optional(),
});
export type ModelPriceConfig = z.infer<typeof modelPriceSchema>;

/** Prices by model name; `"*"` prices every model not named. */
const priceTableSchema = z.record(z.string().min(1).max(200), modelPriceSchema);

export const profileSchema = z.strictObject({
  /** argv of the worker; may hold {task_id} {profile} {workspace} {prompt} {skills} placeholders. Never a shell string. */
  command: argv,
  env: z.record(z.string(), z.string()).default({}),
  skills: z.array(z.string().min(1)).default([]),
  model: z.string().min(1).optional(),
  description: z.string().optional(),
  /**
   * cgroup v2 `memory.max` of each worker of this profile (its whole process tree): bytes, or a
   * string with a K/M/G suffix ("512M"). Only enforced in cgroup containment (see the dispatcher's README).
   */
  memory_max: memorySize.optional(),
  /** cgroup v2 `cpu.max` of each worker, in CPUs (1.5 = one and a half cores). cgroup containment only. */
  cpu_max: z.number().positive().max(1024).optional(),
  /** Admission: no worker of this profile starts while the host's MemAvailable is under this (MiB); overrides `kanban.memory_floor_mb`. */
  memory_floor_mb: z.number().int().min(0).optional(),
  /** The longest a worker of this profile may run when its task sets no max runtime (overrides `kanban.default_max_runtime_seconds`). */
  max_runtime_seconds: z.number().int().min(1).optional(),
  /** This profile's own prices by model (its account or provider); they win over the top-level `prices`. */
  prices: priceTableSchema.optional(),
});
export type ProfileConfig = z.infer<typeof profileSchema>;

const positiveInt = z.number().int().min(1);

const absoluteDir = z
  .string()
  .refine((p) => path.isAbsolute(p), "must be an absolute directory path")
  .transform((p) => path.resolve(p));

export const kanbanSettingsSchema = z.strictObject({
  dispatch_interval_seconds: z.number().min(1).default(60),
  failure_limit: positiveInt.default(2),
  max_spawn: positiveInt.nullable().default(null),
  max_in_progress: positiveInt.nullable().default(null),
  max_in_progress_per_profile: positiveInt.nullable().default(null),
  default_assignee: z.string().default(""),
  /** Hermes B's `kanban.review_dispatch`: spawn the reviewer profile of each task in `review` (false: people review). */
  review_dispatch: z.boolean().default(true),
  /** Completion gates (issue 20): how many rounds of acceptance commands a dispatcher runs at once per board. */
  gate_concurrency: positiveInt.max(64).default(2),
  dispatch_stale_timeout_seconds: z.number().int().min(0).default(14400),
  claim_ttl_seconds: positiveInt.default(900),
  crash_grace_seconds: z.number().int().min(0).default(30),
  /** The exit code a worker uses for "rate limited, retry me later" (EX_TEMPFAIL): never counted, cooled down. */
  rate_limit_exit_code: z.number().int().min(1).max(255).default(75),
  /** The exit code a worker uses for "the provider or the network failed" (EX_UNAVAILABLE): transient, never counted. */
  transient_exit_code: z.number().int().min(1).max(255).default(69),
  /** How long a run may go when neither its task nor its profile sets a max runtime (4 h); 0 = no limit. */
  default_max_runtime_seconds: z.number().int().min(0).default(14400),
  /** Cooldowns before the 1st, 2nd, … automatic revive of a card the breaker blocked for a passing cause (the last repeats). */
  auto_revive_cooldowns_seconds: z.array(z.number().int().min(0)).min(1).max(20).default([600, 1800, 7200]),
  /** How many times such a card is revived automatically before it stays blocked for a person; 0 = never. */
  auto_revive_max: z.number().int().min(0).max(100).default(3),
  worker_log_rotate_bytes: z
    .number()
    .int()
    .min(0)
    .default(2 * 1024 * 1024),
  worker_log_backup_count: z.number().int().min(0).default(1),
  /** Grace between SIGTERM and SIGKILL when a worker is terminated. */
  terminate_grace_seconds: z.number().min(0).default(5),
  /**
   * The only directories under which a tenant's task may have a `dir:` or `worktree` workspace
   * (absolute paths). Empty: tenants get scratch workspaces only. Admin tasks are not limited.
   */
  workspace_roots: z.array(absoluteDir).default([]),
  /**
   * Admission: no worker starts while the host's available memory (`MemAvailable` of /proc/meminfo)
   * is under this many MiB (a profile's `memory_floor_mb` overrides it). 0 turns the check off.
   */
  memory_floor_mb: z.number().int().min(0).default(128),
  /** Admission: at most this many workers at once on this host, across every board and dispatcher sharing `host_state_dir`. */
  max_workers_host: positiveInt.nullable().default(null),
  /** Where dispatchers of this host count their workers (default: `<tmpdir>/kanban-host-<uid>`); share it to share the cap. */
  host_state_dir: absoluteDir.nullable().default(null),
  /** How a worker's process tree is contained: `auto` (a cgroup where cgroup v2 is writable, else the process tree), or forced. */
  containment: z.enum(["auto", "cgroup", "process-tree"]).default("auto"),
  /** The cgroup v2 directory under which each worker gets its own cgroup (default: `<cgroup2 mount>/kanban`). */
  cgroup_root: absoluteDir.nullable().default(null),
  /** Remote hosts: a host whose heartbeat is silent this long loses its claims (the server's sweep). */
  host_lease_seconds: z.number().int().min(5).max(3600).default(30),
  /** Incident folding (issue 17): this many runs of one profile or host failing with one class inside the window open an incident. */
  incident_threshold: positiveInt.max(1000).default(3),
  incident_window_seconds: z.number().int().min(1).max(86_400).default(300),
  /** The wait before an incident's first probe run; doubled after each failed probe up to `incident_probe_max_seconds`. */
  incident_probe_seconds: z.number().min(0).max(86_400).default(30),
  incident_probe_max_seconds: z.number().min(0).max(86_400).default(600),
  /** Notifications (issue 17): whether the dispatcher delivers notify subscriptions through `notify_channels`. */
  notify_enabled: z.boolean().default(true),
  /** Seconds between two passes of the dispatcher's notifier. */
  notify_interval_seconds: z.number().min(0.05).max(3600).default(5),
  /** Consecutive failed deliveries (HTTP errors; network errors back off instead) before a subscription is dropped. */
  notify_max_failures: positiveInt.max(1000).default(12),
  /** The board's address as people reach it (`http://host:3000`): notifications link to the card under it. */
  public_url: z
    .string()
    .max(2048)
    .regex(/^https?:\/\/[^\s]+$/, "must be an http(s) URL")
    .nullable()
    .default(null),
  /**
   * The labels a LOCAL dispatcher of this home offers (`kanban-dispatcher --labels` wins): it claims a
   * task created with `--requires` only when it offers every label. A remote host's are `remote.labels`.
   */
  labels: z
    .array(
      z
        .string()
        .trim()
        .toLowerCase()
        .regex(
          /^[a-z0-9][a-z0-9._-]{0,63}$/,
          "a label is 1-64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit",
        ),
    )
    .max(32)
    .default([]),
});

/**
 * Hermes' `kanban:` settings that this implementation does not use. A config copied from Hermes is
 * accepted with one warning per such key instead of being refused as misspelt.
 */
const HERMES_ONLY_KANBAN_KEYS = [
  "dispatch_in_gateway",
  "notify_in_gateway",
  "orchestrator_profile",
  "auto_decompose",
  "auto_decompose_per_tick",
  "auto_promote_children",
  "auto_subscribe_on_create",
  "reconcile_orphans",
  "dispatch_profiles",
  "done_sub_retention_days",
  "diagnostics",
] as const;

const TENANT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MIN_TOKEN_LENGTH = 16;

/** What a host token grants: a host (a remote dispatcher) named `name`, confined to `tenant` when set. */
const hostTokenSchema = z.strictObject({
  name: z.string().regex(TENANT_NAME).nullable().default(null),
  tenant: z.string().regex(TENANT_NAME).nullable().default(null),
});
export type HostTokenGrant = z.infer<typeof hostTokenSchema>;

/**
 * A notification channel (`notify_channels.<name>`): where the dispatcher POSTs the messages of a
 * subscription with `platform` = the channel's type and `chat_id` = its name. The URL and the secret
 * are secrets: never shown in messages, logs or the board.
 */
export const notifyChannelSchema = z.strictObject({
  type: z.enum(["webhook", "slack", "discord"]),
  url: z
    .string()
    .max(4096)
    .regex(/^https?:\/\/[^\s]+$/, "must be an http(s) URL"),
  /** webhook only: the HMAC-SHA256 key of the `X-Kanban-Signature` header. */
  secret: z.string().min(1).max(4096).optional(),
  timeout_seconds: z.number().min(0.1).max(120).default(10),
});
export type NotifyChannelConfig = z.infer<typeof notifyChannelSchema>;
const CHANNEL_KEYS = Object.keys(notifyChannelSchema.shape);

export const homeConfigSchema = z.strictObject({
  kanban: kanbanSettingsSchema.default(kanbanSettingsSchema.parse({})),
  profiles: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "profile names are lowercase letters, digits, '.', '_' and '-'"),
      profileSchema,
    )
    .default({}),
  /** Tenant-scoped API tokens: token → tenant. Entries are checked one by one (see tenantTokenEntries). */
  tenant_tokens: z.record(z.string(), z.string()).default({}),
  /** Board preferences (`dashboard.kanban`), read loosely by the API's config router. */
  dashboard: z.unknown().optional(),
  /**
   * `postgres://user:password@host:port/database`: keep the boards on PostgreSQL ("" = the embedded
   * SQLite). `KANBAN_DATABASE_URL` wins over it; see `databaseTarget`. A secret: never shown.
   */
  database: z.string().max(4096).optional(),
  /** Notification channels by name (see {@link notifyChannelSchema}). */
  notify_channels: z
    .record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "channel names are letters, digits, '.', '_' and '-'"),
      notifyChannelSchema,
    )
    .default({}),
  /** Remote hosts' API tokens: token → {name?, tenant?}. Entries are checked one by one (see hostTokenEntries). */
  host_tokens: z.record(z.string(), hostTokenSchema).default({}),
  /**
   * This home is a remote host (`kanban-dispatcher` without `--server` reads it): the server's URL,
   * its host token (a secret: never shown), its labels and how many workers it runs at once.
   */
  remote: z
    .strictObject({
      server: z.string().max(2048).optional(),
      token: z.string().max(4096).optional(),
      labels: z.array(z.string().max(64)).max(32).optional(),
      capacity: z.number().int().min(1).max(1024).optional(),
    })
    .optional(),
  /** Prices by model (issue 21): turn reported tokens into cost when a worker reports none. */
  prices: priceTableSchema.default({}),
});
export type HomeConfig = z.infer<typeof homeConfigSchema>;

const TOP_LEVEL_KEYS = Object.keys(homeConfigSchema.shape);
const KANBAN_KEYS = Object.keys(kanbanSettingsSchema.shape);
const PROFILE_KEYS = Object.keys(profileSchema.shape);

/** The price table of a config, as the kernel's usage verbs take it (top-level and per-profile prices). */
export function priceTableOf(config: Pick<HomeConfig, "prices" | "profiles">): {
  models: Record<string, ModelPriceConfig>;
  profiles: Record<string, Record<string, ModelPriceConfig>>;
  profileModels: Record<string, string>;
} {
  const profiles: Record<string, Record<string, ModelPriceConfig>> = {};
  const profileModels: Record<string, string> = {};
  for (const [name, p] of Object.entries(config.profiles)) {
    if (p.prices) profiles[name] = p.prices;
    if (p.model) profileModels[name] = p.model;
  }
  return { models: config.prices, profiles, profileModels };
}

export function homeConfigPath(home: string): string {
  return path.join(home, "config.json");
}

export function defaultHomeConfig(): HomeConfig {
  return homeConfigSchema.parse({});
}

/** A refusal of the whole file: one line (never a token) and the key it names. */
class ConfigProblem {
  constructor(
    readonly message: string,
    readonly key: string,
  ) {}
}

/**
 * Whether a name may appear in a message. A name that is not a known key could be a token pasted in
 * the wrong place, so an unknown name is shown only when shorter than any valid token.
 */
function showable(name: string): string {
  return name.length < MIN_TOKEN_LENGTH
    ? JSON.stringify(name)
    : `of ${name.length} characters (not shown: it may be a token)`;
}

function unknownKey(where: string, name: string, known: readonly string[]): ConfigProblem {
  const suggestion = closestName(name, known);
  const at = where === "" ? name : `${where}.${name}`;
  if (suggestion !== null) return new ConfigProblem(`${at}: unknown key; did you mean "${suggestion}"?`, at);
  const key = name.length < MIN_TOKEN_LENGTH ? at : where || "(root)";
  return new ConfigProblem(`${where || "(root)"}: unknown key ${showable(name)}; known keys: ${known.join(", ")}`, key);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates `tenant_tokens` entry by entry: a bad entry is dropped with a warning and the others keep
 * working. A token is at least 16 characters without whitespace; a tenant is a trimmed name of
 * letters, digits, '.', '_' and '-' (so a tenant of spaces is never the empty, admin, tenant).
 * Warnings never hold a token, nor a tenant value that could be a token swapped into the wrong side.
 */
function tenantTokenEntries(raw: Record<string, unknown>, warnings: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [token, value] of Object.entries(raw)) {
    n++;
    const tenant = typeof value === "string" ? value.trim() : null;
    const tenantOk = tenant !== null && TENANT_NAME.test(tenant);
    const tokenProblem =
      token.length < MIN_TOKEN_LENGTH
        ? `token is shorter than ${MIN_TOKEN_LENGTH} characters`
        : /\s/.test(token)
          ? "token contains whitespace"
          : null;
    // With a malformed token the two sides may be swapped; then a long "tenant" could be the token.
    const nameShown = tenantOk && (tokenProblem === null || (tenant as string).length < MIN_TOKEN_LENGTH);
    const label = `tenant_tokens entry ${n}${nameShown ? ` (tenant '${tenant}')` : ""}`;
    if (tokenProblem !== null) warnings.push(`${label}: ${tokenProblem}; ignored`);
    else if (!tenantOk)
      warnings.push(
        `${label}: tenant must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit); ignored`,
      );
    else out[token] = tenant as string;
  }
  return out;
}

/**
 * Validates `host_tokens` entry by entry, as tenant tokens are: a bad entry is dropped with a warning
 * naming its position (and its name when that cannot be the token), never its token. A token that is
 * also a tenant token is dropped too: one secret must not mean two kinds of caller.
 */
function hostTokenEntries(
  raw: Record<string, unknown>,
  tenantTokens: Record<string, string>,
  warnings: string[],
): Record<string, HostTokenGrant> {
  const out: Record<string, HostTokenGrant> = {};
  let n = 0;
  for (const [token, value] of Object.entries(raw)) {
    n++;
    const parsed = hostTokenSchema.safeParse(isPlainObject(value) ? trimStrings(value) : value);
    const tokenProblem =
      token.length < MIN_TOKEN_LENGTH
        ? `token is shorter than ${MIN_TOKEN_LENGTH} characters`
        : /\s/.test(token)
          ? "token contains whitespace"
          : token in tenantTokens
            ? "token is also a tenant token"
            : null;
    const name = parsed.success ? parsed.data.name : null;
    const label = `host_tokens entry ${n}${name !== null && name.length < MIN_TOKEN_LENGTH ? ` (host '${name}')` : ""}`;
    if (tokenProblem !== null) warnings.push(`${label}: ${tokenProblem}; ignored`);
    else if (!parsed.success)
      warnings.push(
        `${label}: expected {"name"?: <host name>, "tenant"?: <tenant>}, names of 1-64 letters, digits, '.', '_' or '-'; ignored`,
      );
    else out[token] = parsed.data;
  }
  return out;
}

function trimStrings(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === "string" ? v.trim() : v]));
}

/** Turns the first zod issue into one line naming the key; never quotes the offending value. */
function problemFromZod(error: z.ZodError): ConfigProblem {
  const issue = error.issues[0];
  if (issue === undefined) return new ConfigProblem("invalid value", "(root)");
  const segments = issue.path.map(String);
  if (segments[0] === "profiles" && segments[1] !== undefined && issue.code === "invalid_key") {
    return new ConfigProblem(`profiles: profile name ${showable(segments[1])}: ${issue.message}`, "profiles");
  }
  if (segments[0] === "notify_channels" && segments[1] !== undefined && issue.code === "invalid_key") {
    return new ConfigProblem(
      `notify_channels: channel name ${showable(segments[1])}: ${issue.message}`,
      "notify_channels",
    );
  }
  if (issue.code === "unrecognized_keys") {
    const where = segments.join(".");
    const known =
      segments.length === 0
        ? TOP_LEVEL_KEYS
        : segments[0] === "kanban"
          ? [...KANBAN_KEYS, ...HERMES_ONLY_KANBAN_KEYS]
          : segments[0] === "notify_channels"
            ? CHANNEL_KEYS
            : PROFILE_KEYS;
    return unknownKey(where, issue.keys[0] ?? "", known);
  }
  const where = segments.length > 0 ? segments.join(".") : "(root)";
  return new ConfigProblem(`${where}: ${issue.message}`, where);
}

interface Parsed {
  config: HomeConfig;
  warnings: string[];
}

/** The checks on a parsed JSON value; throws ConfigProblem. */
function checkConfig(value: unknown): Parsed {
  const warnings: string[] = [];
  if (value === null || value === undefined) value = {};
  if (!isPlainObject(value)) throw new ConfigProblem("(root): expected a JSON object", "(root)");
  const input: Record<string, unknown> = { ...value };
  for (const name of Object.keys(input)) if (!TOP_LEVEL_KEYS.includes(name)) throw unknownKey("", name, TOP_LEVEL_KEYS);
  if (isPlainObject(input.kanban)) {
    const kanban: Record<string, unknown> = { ...input.kanban };
    for (const name of HERMES_ONLY_KANBAN_KEYS) {
      if (name in kanban) {
        delete kanban[name];
        warnings.push(`kanban.${name} is a Hermes setting this implementation does not use; ignored`);
      }
    }
    input.kanban = kanban;
  }
  let tokens: Record<string, string> = {};
  if ("tenant_tokens" in input && input.tenant_tokens !== undefined) {
    if (!isPlainObject(input.tenant_tokens))
      throw new ConfigProblem("tenant_tokens: expected an object mapping each token to its tenant", "tenant_tokens");
    tokens = tenantTokenEntries(input.tenant_tokens, warnings);
    input.tenant_tokens = {};
  }
  let hostTokens: Record<string, HostTokenGrant> = {};
  if ("host_tokens" in input && input.host_tokens !== undefined) {
    if (!isPlainObject(input.host_tokens))
      throw new ConfigProblem("host_tokens: expected an object mapping each token to its host", "host_tokens");
    hostTokens = hostTokenEntries(input.host_tokens, tokens, warnings);
    input.host_tokens = {};
  }
  const result = homeConfigSchema.safeParse(input);
  if (!result.success) throw problemFromZod(result.error);
  return { config: { ...result.data, tenant_tokens: tokens, host_tokens: hostTokens }, warnings };
}

/**
 * Validates a parsed config object and returns the usable config (bad tenant_tokens entries
 * dropped). Throws `CONFIG_INVALID` naming the first offending key.
 */
export function parseHomeConfig(value: unknown, source = "config.json"): HomeConfig {
  try {
    return checkConfig(value).config;
  } catch (err) {
    if (err instanceof ConfigProblem)
      throw new KanbanDbError("CONFIG_INVALID", `invalid ${source}: ${err.message}`, { key: err.key });
    throw err;
  }
}

export interface HomeConfigSnapshot {
  /** Usable config: the file's when valid; defaults when the file is missing; when the file is invalid,
   *  the last valid config this reader saw (or defaults if none). */
  config: HomeConfig;
  /** One readable line when config.json is invalid (bad JSON with position, unknown key with a
   *  "did you mean …", bad value naming the key); never contains a token. null when valid or missing. */
  error: string | null;
  /** Non-fatal problems (a dropped tenant_tokens entry, an unused Hermes key). Never token text. */
  warnings: string[];
  /** True when the raw file has a "tenant_tokens" key at all (even if the file is invalid), or cannot
   *  be read (then nobody can tell): lets the API fail closed. */
  tenantTokensDeclared: boolean;
  /** Changes whenever the file's content changes (sha256 prefix of the bytes, or "missing"). */
  version: string;
}

interface SnapshotDetail extends HomeConfigSnapshot {
  /** For loadHomeConfig's typed error. */
  errorKind: "CONFIG_INVALID" | "DB_UNAVAILABLE" | null;
  errorKey: string | null;
}

function snapshotFromBytes(
  bytes: Buffer | null,
  readError: NodeJS.ErrnoException | null,
  lastValid: HomeConfig | undefined,
): SnapshotDetail {
  const fallback = lastValid ?? defaultHomeConfig();
  if (readError !== null) {
    return {
      config: fallback,
      error: `cannot read config.json: ${readError.code ?? readError.message}`,
      errorKind: "DB_UNAVAILABLE",
      errorKey: null,
      warnings: [],
      tenantTokensDeclared: true,
      version: `unreadable:${readError.code ?? "?"}`,
    };
  }
  if (bytes === null) {
    return {
      config: defaultHomeConfig(),
      error: null,
      errorKind: null,
      errorKey: null,
      warnings: [],
      tenantTokensDeclared: false,
      version: "missing",
    };
  }
  const version = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  let text = bytes.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // editors on some systems write a BOM
  let json: unknown;
  try {
    json = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    return {
      config: fallback,
      error: `invalid config.json: not JSON (${describeJsonError(text)})`,
      errorKind: "CONFIG_INVALID",
      errorKey: "(root)",
      warnings: [],
      tenantTokensDeclared: text.includes('"tenant_tokens"'),
      version,
    };
  }
  const tenantTokensDeclared = isPlainObject(json) && "tenant_tokens" in json;
  try {
    const { config, warnings } = checkConfig(json);
    return { config, error: null, errorKind: null, errorKey: null, warnings, tenantTokensDeclared, version };
  } catch (err) {
    if (!(err instanceof ConfigProblem)) throw err;
    return {
      config: fallback,
      error: `invalid config.json: ${err.message}`,
      errorKind: "CONFIG_INVALID",
      errorKey: err.key,
      warnings: [],
      tenantTokensDeclared,
      version,
    };
  }
}

function readDetail(home: string, lastValid?: HomeConfig): SnapshotDetail {
  try {
    return snapshotFromBytes(fs.readFileSync(homeConfigPath(home)), null, lastValid);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT") return snapshotFromBytes(null, null, lastValid);
    return snapshotFromBytes(null, e, lastValid);
  }
}

function publicSnapshot(d: SnapshotDetail): HomeConfigSnapshot {
  return {
    config: d.config,
    error: d.error,
    warnings: d.warnings,
    tenantTokensDeclared: d.tenantTokensDeclared,
    version: d.version,
  };
}

/** Reads `<home>/config.json` once, never throwing for its content (see {@link HomeConfigSnapshot}). */
export function readHomeConfigSnapshot(home: string, lastValid?: HomeConfig): HomeConfigSnapshot {
  return publicSnapshot(readDetail(home, lastValid));
}

/**
 * Reads `<home>/config.json`; a missing file is the default config. Throws `CONFIG_INVALID` for an
 * invalid file (the message names the file and the key) and `DB_UNAVAILABLE` for an unreadable one.
 */
export function loadHomeConfig(home: string): HomeConfig {
  const d = readDetail(home);
  if (d.errorKind === null) return d.config;
  const file = homeConfigPath(home);
  const message = d.error?.replace("config.json", file) ?? `invalid ${file}`;
  throw new KanbanDbError(d.errorKind, message, d.errorKey === null ? {} : { key: d.errorKey });
}

export interface HomeConfigReader {
  get(): HomeConfigSnapshot;
}

/**
 * Cached reader for long-running processes: stats config.json at most every `minIntervalMs`
 * (default 250) and rereads it only when its mtime, size or inode changed, so token and setting
 * edits apply without a restart at the cost of one stat per interval. Across an invalid edit it
 * keeps serving the last valid config (with `error` set), so one typo does not take every tenant down.
 */
export function homeConfigReader(
  home: string,
  opts: { minIntervalMs?: number; now?: () => number } = {},
): HomeConfigReader {
  const minIntervalMs = opts.minIntervalMs ?? 250;
  const now = opts.now ?? Date.now;
  const file = homeConfigPath(home);
  let current: HomeConfigSnapshot | null = null;
  let lastValid: HomeConfig | undefined;
  let statKey = "";
  let checkedAt = Number.NEGATIVE_INFINITY;
  const keyOf = (): string => {
    try {
      const st = fs.statSync(file, { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch (err) {
      return `error:${(err as NodeJS.ErrnoException).code ?? "?"}`;
    }
  };
  return {
    get() {
      const t = now();
      if (current !== null && t - checkedAt < minIntervalMs) return current;
      checkedAt = t;
      const key = keyOf();
      if (current !== null && key === statKey) return current;
      statKey = key;
      current = readHomeConfigSnapshot(home, lastValid);
      if (current.error === null) lastValid = current.config;
      return current;
    },
  };
}
