import type { Client, ClientConfig } from "pg";
import { z } from "zod";
import { KanbanDbError } from "./errors.ts";
import { boardSchemaName, quoteIdent } from "./pg-board-schema.ts";
import { type KanbanPostgres, openPostgres } from "./pg-connection.ts";
import { classifyPostgresFailure } from "./pg-failures.ts";
import { type PostgresTarget, parsePostgresUrl } from "./pg-url.ts";

/** The channel a board's new events are announced on, for every board of a database. */
export const KANBAN_EVENTS_CHANNEL = "kanban_events";

/**
 * The statement that announces a board's events: one notification on {@link KANBAN_EVENTS_CHANNEL}
 * carrying only the board's schema and its highest event id, e.g. `{"schema":"kanban_default","id":42}`
 * (a schema name is at most 63 bytes and an id at most 19 digits: at most 101 bytes, far from
 * PostgreSQL's 8,000-byte limit). Listeners read the events themselves (id > their cursor); the
 * notification only wakes them. A board without events announces nothing.
 *
 * Writers send it themselves (the kernel's PostgreSQL session, at most one per board and process every
 * few milliseconds) rather than through a trigger: every transaction that notifies takes one lock of
 * the whole database cluster at commit, so a notification per write serialised every writer's commit.
 * Inside a transaction, it is delivered at that transaction's commit, or not at all.
 */
export function eventsAnnouncementSql(schema: string): string {
  const literal = `'${schema.replace(/'/g, "''")}'`;
  // Spelled out rather than json_build_object, which pads with spaces.
  return `SELECT pg_notify('${KANBAN_EVENTS_CHANNEL}', '{"schema":' || to_json(${literal}::text)::text || ',"id":' || max(id) || '}')
  FROM ${quoteIdent(schema)}.task_events HAVING max(id) IS NOT NULL`;
}

/** What an announcement carries: the board's schema and its highest event id when it was sent. */
export interface EventNotification {
  schema: string;
  id: number;
}

const notificationSchema = z.object({
  schema: z.string().min(1).max(63),
  id: z
    .number()
    .refine(Number.isSafeInteger)
    .refine((n) => n > 0),
});

/** A notification's payload, or null when it is not one of ours (anyone may NOTIFY on any channel). */
export function parseEventNotification(payload: string | undefined): EventNotification | null {
  if (payload === undefined || payload.length > 1000) return null;
  try {
    const parsed = notificationSchema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A subscriber of one board's events. Both calls mean "read what is after your cursor"; neither carries rows. */
export interface PgBoardEventHandler {
  /** Events up to at least `id` are committed on the board. */
  onEvent(id: number): void;
  /** Notifications may have been lost (the listener's connection dropped and is back): re-read now. */
  onResync(): void;
}

/**
 * `listen`: one dedicated connection (a `pg.Client`, never a pooled one) runs `LISTEN kanban_events`.
 * `poll`: no LISTEN at all; the newest event id of each subscribed board is polled through a pool.
 * That is the mode behind a transaction-pooling proxy (PgBouncer `pool_mode = transaction`), where a
 * LISTEN is bound to whichever server connection ran it and notifications never reach the client.
 */
export type PgListenMode = "listen" | "poll";

export interface OpenPgEventListenerOptions {
  /** Default `listen`. */
  mode?: PgListenMode;
  /** `poll` mode: how often the newest ids are read (default 1 s). */
  pollIntervalMs?: number;
  /** `poll` mode: the pool to read through (default: a pool of one connection of its own). */
  postgres?: KanbanPostgres;
  /** `listen` mode: first wait before reconnecting after the connection dropped (default 100 ms), doubled per failure... */
  reconnectMinMs?: number;
  /** ... up to this (default 5 s). */
  reconnectMaxMs?: number;
  /**
   * `listen` mode: a `SELECT 1` on the listening connection this often (default 30 s; 0: never). A
   * connection that a dead network left half-open gets no error and no notification, for as long as
   * TCP takes to notice (minutes): a heartbeat that gets no answer within `heartbeatTimeoutMs`
   * (default 10 s) drops it and reconnects.
   */
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  /** How long one connection attempt may take (default 10 s). */
  connectTimeoutMs?: number;
  /** Shown in `pg_stat_activity.application_name` (default `kanban-listen`). */
  applicationName?: string;
  /** Where lost connections and failed polls are reported, one password-free line (default: process warning). */
  warn?: (message: string) => void;
}

export interface PgEventListener {
  readonly mode: PgListenMode;
  /** Where it listens, without the password. */
  readonly target: PostgresTarget;
  /** Calls `handler` for new events of board `slug` until the returned function is called. */
  subscribe(slug: string, handler: PgBoardEventHandler): () => void;
  /** `listen` mode: the server pid of the listening connection; null while it is down, and in `poll` mode. */
  readonly backendPid: number | null;
  /** `listen` mode: how many times the listening connection was re-established. */
  readonly reconnects: number;
  /** Stops listening or polling and closes its connections. Subscribers hear nothing more. */
  close(): Promise<void>;
}

/**
 * Opens the process's one listener for live events on the boards of a PostgreSQL database. The first
 * connection (or in `poll` mode the pool's probe) is made here: a bad URL, an unreachable server or a
 * wrong password throws the same typed, password-free `KanbanDbError` as `openPostgres`, and nothing
 * is left open. Later losses are retried forever with backoff until `close()`.
 */
export async function openPgEventListener(
  url: string,
  opts: OpenPgEventListenerOptions = {},
): Promise<PgEventListener> {
  const mode = opts.mode ?? "listen";
  if (mode !== "listen" && mode !== "poll") {
    throw new KanbanDbError("CONFIG_INVALID", `invalid live events mode ${String(mode)}: expected listen or poll`);
  }
  const listener = mode === "listen" ? new ListenModeListener(url, opts) : new PollModeListener(url, opts);
  await listener.start();
  return listener;
}

/** Subscribers by board schema, shared by both modes. Every call is isolated: one throwing handler never stops the others. */
class Subscribers {
  readonly bySchema = new Map<string, Set<PgBoardEventHandler>>();

  constructor(private readonly warn: (message: string) => void) {}

  add(slug: string, handler: PgBoardEventHandler): { schema: string; remove: () => void } {
    const schema = boardSchemaName(slug);
    let set = this.bySchema.get(schema);
    if (!set) {
      set = new Set();
      this.bySchema.set(schema, set);
    }
    // A wrapper per subscription: the same handler subscribed twice is two subscriptions.
    const entry: PgBoardEventHandler = { onEvent: (id) => handler.onEvent(id), onResync: () => handler.onResync() };
    set.add(entry);
    const own = set;
    return {
      schema,
      remove: () => {
        own.delete(entry);
        if (own.size === 0 && this.bySchema.get(schema) === own) this.bySchema.delete(schema);
      },
    };
  }

  event(schema: string, id: number): void {
    for (const h of this.bySchema.get(schema) ?? []) this.call(() => h.onEvent(id));
  }

  resyncAll(): void {
    for (const set of this.bySchema.values()) for (const h of set) this.call(() => h.onResync());
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.warn(`live events: a subscriber failed: ${(err as Error).message}`);
    }
  }
}

function defaultWarn(message: string): void {
  process.emitWarning(message);
}

/**
 * Ends a client without waiting for the server: a dropped or half-open connection may never answer a
 * graceful termination.
 */
function destroyClient(client: Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  client.end().catch(() => {});
}

class ListenModeListener implements PgEventListener {
  readonly mode = "listen" as const;
  readonly target: PostgresTarget;
  private readonly secrets: readonly string[];
  private readonly subs: Subscribers;
  private readonly warn: (message: string) => void;
  private client: Client | null = null;
  private pid: number | null = null;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatInFlight = false;
  /** Failed reconnect attempts in the current outage (0 while connected). */
  private failures = 0;
  reconnects = 0;

  constructor(
    private readonly url: string,
    private readonly opts: OpenPgEventListenerOptions,
  ) {
    const parsed = parsePostgresUrl(url);
    this.target = parsed.target;
    this.secrets = parsed.secrets;
    this.warn = opts.warn ?? defaultWarn;
    this.subs = new Subscribers(this.warn);
  }

  get backendPid(): number | null {
    return this.pid;
  }

  subscribe(slug: string, handler: PgBoardEventHandler): () => void {
    return this.subs.add(slug, handler).remove;
  }

  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      throw classifyPostgresFailure(err, this.target, this.secrets);
    }
    const every = this.opts.heartbeatMs ?? 30_000;
    if (every > 0) {
      this.heartbeatTimer = setInterval(() => this.heartbeat(), every);
      this.heartbeatTimer.unref();
    }
  }

  private async connect(): Promise<void> {
    const pg = (await import("pg")).default;
    const config: ClientConfig = {
      connectionString: this.url.trim(),
      connectionTimeoutMillis: this.opts.connectTimeoutMs ?? 10_000,
      application_name: this.opts.applicationName ?? "kanban-listen",
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    };
    const client = new pg.Client(config);
    // Before connect(): an error with no listener would crash the process.
    client.on("error", (err) => this.lost(client, err));
    client.on("end", () => this.lost(client, null));
    client.on("notification", (msg) => {
      if (msg.channel !== KANBAN_EVENTS_CHANNEL) return;
      const n = parseEventNotification(msg.payload);
      if (n) this.subs.event(n.schema, n.id);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${KANBAN_EVENTS_CHANNEL}`);
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      if (this.closed) throw new Error("closed");
      this.client = client;
      this.pid = rows[0]?.pid ?? null;
    } catch (err) {
      destroyClient(client);
      throw err;
    }
  }

  /** The listening connection failed or ended: forget it and reconnect (once per client). */
  private lost(client: Client, err: unknown): void {
    if (this.client !== client) return;
    this.client = null;
    this.pid = null;
    destroyClient(client);
    if (this.closed) return;
    const why = err ? classifyPostgresFailure(err, this.target, this.secrets).message : "the server closed it";
    this.warn(`live events: lost the listening connection to ${this.target.label} (${why}); reconnecting`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== null) return;
    const min = this.opts.reconnectMinMs ?? 100;
    const max = this.opts.reconnectMaxMs ?? 5_000;
    const base = Math.min(max, min * 2 ** Math.min(this.failures, 20));
    // Jitter: many API servers that lost the same database do not all come back in the same instant.
    const delay = base / 2 + Math.random() * (base / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.reconnect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    try {
      await this.connect();
    } catch (err) {
      if (this.closed) return;
      this.failures++;
      // One line for the first failure of an outage and then one in ten, not one per attempt.
      if (this.failures === 1 || this.failures % 10 === 0) {
        const why = classifyPostgresFailure(err, this.target, this.secrets).message;
        this.warn(`live events: reconnecting to ${this.target.label} failed ${this.failures} time(s): ${why}`);
      }
      this.scheduleReconnect();
      return;
    }
    if (this.failures > 0) this.warn(`live events: listening on ${this.target.label} again`);
    this.failures = 0;
    this.reconnects++;
    // Notifications sent while the connection was down are lost for good: every subscriber re-reads.
    this.subs.resyncAll();
  }

  private heartbeat(): void {
    const client = this.client;
    if (client === null || this.heartbeatInFlight) return;
    this.heartbeatInFlight = true;
    const timeout = setTimeout(() => {
      this.lost(client, new Error("the listening connection did not answer a heartbeat"));
    }, this.opts.heartbeatTimeoutMs ?? 10_000);
    timeout.unref();
    client
      .query("SELECT 1")
      .catch(() => {
        // The 'error' event reports it (or the timeout does).
      })
      .finally(() => {
        clearTimeout(timeout);
        this.heartbeatInFlight = false;
      });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.reconnectTimer = null;
    this.heartbeatTimer = null;
    this.subs.bySchema.clear();
    const client = this.client;
    this.client = null;
    this.pid = null;
    if (client) {
      // A graceful end, bounded: a connection that stopped answering is destroyed instead.
      const ended = client.end().catch(() => {});
      const timer = setTimeout(() => destroyClient(client), 2_000);
      await ended;
      clearTimeout(timer);
    }
  }
}

class PollModeListener implements PgEventListener {
  readonly mode = "poll" as const;
  readonly target: PostgresTarget;
  readonly backendPid = null;
  readonly reconnects = 0;
  private readonly subs: Subscribers;
  private readonly warn: (message: string) => void;
  private db: KanbanPostgres | null = null;
  private ownsDb = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  /** The newest id seen per board schema; a schema missing here is read and reported on the next poll. */
  private readonly seen = new Map<string, number>();
  /** Schemas whose last poll failed (warned once per failing streak). */
  private readonly failing = new Set<string>();

  constructor(
    private readonly url: string,
    private readonly opts: OpenPgEventListenerOptions,
  ) {
    this.target = parsePostgresUrl(url).target;
    this.warn = opts.warn ?? defaultWarn;
    this.subs = new Subscribers(this.warn);
  }

  subscribe(slug: string, handler: PgBoardEventHandler): () => void {
    const { schema, remove } = this.subs.add(slug, handler);
    // A new subscriber hears the board's newest id on the next poll even when it has not moved.
    this.seen.delete(schema);
    return () => {
      remove();
      if (!this.subs.bySchema.has(schema)) this.seen.delete(schema);
    };
  }

  async start(): Promise<void> {
    if (this.opts.postgres) {
      this.db = this.opts.postgres;
    } else {
      this.db = await openPostgres(this.url, {
        poolSize: 1,
        applicationName: this.opts.applicationName ?? "kanban-listen",
        connectTimeoutMs: this.opts.connectTimeoutMs,
        warn: this.warn,
      });
      this.ownsDb = true;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    // A chain of timeouts, not an interval: a slow poll never overlaps the next one.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pollOnce().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, this.opts.pollIntervalMs ?? 1_000);
    this.timer.unref();
  }

  private async pollOnce(): Promise<void> {
    const db = this.db;
    if (db === null) return;
    for (const schema of [...this.subs.bySchema.keys()]) {
      if (this.closed) return;
      let id: number;
      try {
        const { rows } = await db.pool.query<{ id: number | bigint | null }>(
          `SELECT max(id) AS id FROM ${quoteIdent(schema)}.task_events`,
        );
        id = Number(rows[0]?.id ?? 0);
        if (this.failing.delete(schema)) this.warn(`live events: polling board schema ${schema} works again`);
      } catch (err) {
        if (!this.failing.has(schema)) {
          this.failing.add(schema);
          this.warn(`live events: polling board schema ${schema} failed: ${db.failure(err).message}; retrying`);
        }
        continue;
      }
      // Unsubscribed meanwhile: nothing to tell.
      if (!this.subs.bySchema.has(schema)) continue;
      const before = this.seen.get(schema);
      this.seen.set(schema, id);
      if (before === undefined ? id > 0 : id > before) this.subs.event(schema, id);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.subs.bySchema.clear();
    await this.running;
    if (this.ownsDb) await this.db?.close();
    this.db = null;
  }
}
