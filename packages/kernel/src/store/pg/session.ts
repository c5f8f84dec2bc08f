import { createHash } from "node:crypto";
import type { PoolClient, QueryConfig, QueryResult } from "pg";
import { advisoryLockKey, eventsAnnouncementSql, KanbanDbError, type KanbanPostgres } from "@kanban/db";
import { type Clock, nowSeconds } from "../../clock.ts";
import { taskFromValues } from "../../rows.ts";
import type { Task } from "../../types.ts";
import type { BeginRead, SqlRun, SqlSessionHandle, TxOptions } from "../port.ts";
import { TransactionContext } from "../transaction-context.ts";
import { EventAnnouncer } from "./event-announcer.ts";
import { bindValues, type Translated, translate } from "./translate.ts";

/** The transaction the current async call chain is inside, as in store/sqlite/session.ts. */
interface TxToken {
  session: PgSession;
  client: PoolClient;
  open: boolean;
  nested: Promise<unknown>;
  /** A statement of this transaction wrote events: its commit wakes the board's listeners. */
  wroteEvents: boolean;
}
/**
 * Whether a server error that ended a message of several writes would have failed each of them sent
 * alone too: the board's lock not granted in time, a statement timeout or cancel, the server shutting
 * down or out of resources. Those fail every write of the message; any other (a constraint, a
 * deadlock between two messages' rows) is one write's, and the rest are sent again.
 */
function failsEveryWrite(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string") return true;
  return code === "55P03" || ["57", "53", "08", "58", "XX"].includes(code.slice(0, 2));
}

/**
 * The share of the board's pool that messages of writes sent alone may hold at once (rounded up: a
 * pool of 3 or 4 lets 2 go). A write asked for while they are all under way waits, and the writes
 * asked for meanwhile go in its message: under load a fleet's claims and completions travel several
 * to a message, with one lock, one commit and one round trip for all of them, and the rest of the
 * pool stays free for reads and transactions. Measured with 8 workers on a pool of 4 (a 2-core machine,
 * alternating rounds; README, "PostgreSQL queues"): with no limit, writes met only while waiting for
 * the pool, 1.6 to a message, and no clear gain; with half the pool 3.7 to a message and a drain 1.13
 * times as fast (faster in every round); with one connection, slower than one write a message.
 */
const ALONE_MESSAGES_SHARE = 0.5;

/**
 * The most writes one message carries: a burst of hundreds (every worker of a fleet completing at
 * once) goes in several messages, so no one transaction holds its rows and the board's lock for long,
 * and a message that must be sent again write by write (see PgSession.sendOn) stays short.
 */
const ALONE_MESSAGE_WRITES = 32;

/** A write of writeAlone waiting to be sent, and its caller's promise. */
interface AloneWrite {
  t: Translated;
  /** Its values as SQL literals. */
  values: string[];
  writesEvents: boolean;
  /** The statement's rows; null when it was not sent and the caller should take the ordinary way. */
  resolve: (rows: unknown[] | null) => void;
  reject: (err: unknown) => void;
}

/** Process-wide, shared by every PostgreSQL session (see ../transaction-context.ts). */
const inside = new TransactionContext<TxToken>();

/** Whether the transactions' async context is being tracked now (for the session's tests). */
export function transactionContextTracked(): boolean {
  return inside.tracked;
}

/** Advisory-lock class of a board's writer lock (see PG_LOCK_CLASS in @kanban/db for the scheme). */
export const BOARD_WRITER_LOCK_CLASS = 0x4b4e5701;

/**
 * The transactions (other than the caller's own) holding a board's writer lock, by virtual
 * transaction id: unique per transaction, and present whether or not it has an xid yet. pg_locks
 * shows the whole server's advisory locks, and a board of the same slug in another database has the
 * same key: only this database's holders count (a busy board there would hold readers here back).
 */
const LOCK_HOLDERS_SQL = `SELECT array_agg(virtualtransaction) AS v FROM pg_locks
  WHERE locktype = 'advisory' AND classid = ?::oid AND objid = ?::oid AND objsubid = 2 AND granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND pid <> pg_backend_pid()`;
/** Pauses between looks while writers that may hold unsettled event ids finish (a claim takes a few ms). */
const SETTLE_WAITS_MS = [0, 1, 2, 5, 10, 20, 50, 100, 200];

/** Prepared statements, one per translated text, shared by every connection of the process. */
interface Statement {
  name: string;
  /** It inserts into task_events (alone or inside a data-modifying CTE). */
  writesEvents: boolean;
}
const statements = new Map<string, Statement>();
function statementOf(text: string): Statement {
  let statement = statements.get(text);
  if (!statement) {
    statement = {
      name: `kanban_${statements.size + 1}`,
      writesEvents: /\bINSERT\s+INTO\s+"?task_events"?[\s(]/i.test(text),
    };
    statements.set(text, statement);
  }
  return statement;
}

/**
 * The SQL-level prepared statements (PREPARE) each connection holds for {@link PgSession.writeAlone}
 * and for the reads that travel with BEGIN.
 * They are apart from the driver's own (protocol-level, named per process), and named after the
 * board's schema and the statement's text: a name found on a server connection is always the same
 * statement on the same tables, also when a pooler hands the connection to another process or board.
 */
const preparedAlone = new WeakMap<PoolClient, Set<string>>();

/**
 * Forgets what was prepared on `client` (its next message prepares again). For tests that drop a
 * connection's statements behind the session's back, as a transaction pooler would.
 * @internal
 */
export function forgetPreparedAlone(client: PoolClient): void {
  preparedAlone.delete(client);
}

/**
 * The PREPARE name of `text` on a board: a hash of its schema and the text (see preparedAlone),
 * after `kanban_l_` for the board's lock, `kanban_w_` for any other statement.
 */
function preparedName(kind: "l" | "w", schema: string, text: string): string {
  return `kanban_${kind}_${createHash("sha256").update(`${schema}\0${text}`).digest("hex").slice(0, 32)}`;
}

/** A value as an SQL literal inside EXECUTE (the prepared statement's parameter types apply), or null. */
function literal(v: unknown): string | null {
  if (v === null) return "NULL";
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return `'${String(v)}'`;
  if (Array.isArray(v)) {
    // A list (json_each's, store/pg/translate.ts) as an array's text form, which the parameter's array
    // type reads: each element double-quoted, its quotes and backslashes escaped.
    const items: string[] = [];
    for (const item of v) {
      if (item === null) items.push("NULL");
      else if (typeof item === "string" || typeof item === "number" || typeof item === "bigint")
        items.push(`"${String(item).replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`);
      else return null;
    }
    return literal(`{${items.join(",")}}`);
  }
  if (typeof v !== "string") return null;
  // A NUL would end the message's query string early; such a value takes the ordinary way.
  if (v.includes("\0")) return null;
  const quoted = v.replaceAll("'", "''");
  // With a backslash, an escape-string literal reads the same whatever standard_conforming_strings is.
  return v.includes("\\") ? ` E'${quoted.replaceAll("\\", "\\\\")}'` : `'${quoted}'`;
}

/** A statement's values as literals for EXECUTE, or null when one cannot be written so. */
function literalsOf(t: Translated, args: readonly unknown[]): string[] | null {
  const values: string[] = [];
  for (const v of bindValues(t, args)) {
    const text = literal(v);
    if (text === null) return null;
    values.push(text);
  }
  return values;
}

/**
 * Ends whatever transaction the connection is in; the error when even that failed (the connection is
 * then discarded, not given back to the pool), else undefined.
 */
async function rollback(client: PoolClient): Promise<unknown> {
  try {
    await client.query("ROLLBACK");
    return undefined;
  } catch (err) {
    return err;
  }
}

/** The statements of a BEGIN message before anything sent with it: BEGIN and the board's lock (with its bound). */
const BEGIN_STATEMENTS = 2;

/** PostgreSQL's "prepared statement does not exist": a pooler gave the message another server session. */
const NO_SUCH_STATEMENT = "26000";
/** "prepared statement already exists": a server session kept one this process did not know of. */
const STATEMENT_EXISTS = "42P05";

/** Live-event notifications of one board and process: at most one per this many ms (see EventAnnouncer). */
export const ANNOUNCE_GAP_MS = 25;

/**
 * One PostgreSQL board as the store sees it: a small pool whose connections resolve names in the
 * board's schema, and the clock. The rules are SQLite's, so every kernel transaction keeps its
 * meaning:
 *
 * - One writer per board. A transaction takes the board's transaction-scoped advisory lock first
 *   (`pg_advisory_xact_lock(class, board)`), so writers of one board run one at a time across every
 *   process and host, as SQLite's BEGIN IMMEDIATE makes them; writers of different boards never wait
 *   for each other. The lock goes with the transaction, also when its connection dies.
 * - A transaction owns one pooled connection from BEGIN to COMMIT. Statements of the caller's own
 *   transaction (known through AsyncLocalStorage) run on it; a verb called inside it nests as a
 *   savepoint, one at a time. Every other statement takes any free connection, so it sees committed
 *   rows only (READ COMMITTED), never another caller's open transaction.
 * - Waiting for the lock is bounded by `lockTimeoutMs` (SQLite's busy_timeout): past it the write
 *   fails with DB_BUSY and nothing is written.
 * - A transaction begun with `{ shared: true }` takes the same lock in share mode: shared ones run
 *   alongside each other, never alongside an exclusive one. Only a verb that keeps its writes safe
 *   against other shared writers by itself (row locks: the claim walk, store/pg/shared-writers.ts) may
 *   ask for it. Event ids of shared writers may then commit out of id order; readers that resume
 *   from an event id read below {@link settledEventId} only.
 */
export class PgSession implements SqlSessionHandle {
  readonly dialect = "postgres" as const;
  /** Set once the connection (and the board's schema) is ready; see `ready`. */
  private db: KanbanPostgres | null = null;
  /**
   * Settles when the pool is open and the schema migrated. A session can be made before that (tests
   * make boards synchronously); every statement waits for it, and a failure rejects each of them
   * with the same typed error. `openPgBoard` awaits it, so a product process fails at open instead.
   */
  readonly ready: Promise<void>;
  private savepoints = 0;
  private active = 0;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  private closing = false;
  private closed = false;
  /** Set by the first `close`: settles once the connections are closed. */
  private closedAll: Promise<void> | null = null;
  transactionsBegun = 0;
  /**
   * The board's writer lock, exclusive and shared, each one statement that first bounds the wait
   * (`lock_timeout`, for this transaction only) and then takes the lock. A subquery fenced by
   * OFFSET 0 is evaluated before the select list, so the bound is in place when the lock waits.
   * Sent as `EXECUTE` of the statement prepared on the connection (see lockStatement).
   */
  private readonly lockSql: string;
  private readonly lockSharedSql: string;
  /** Their prepared names (hashed once: a hash each time cost about 8 µs a message). */
  private readonly lockNames: { exclusive: string; shared: string };
  /** Each translated statement's prepared name (see executeOn): the translation is cached, so is this. */
  private readonly preparedNames = new WeakMap<Translated, string>();
  /** The board's writer lock as pg_locks shows it (classid, objid: unsigned). */
  private readonly lockRow: { classid: string; objid: string };
  /** The highest event id proven settled so far (see settledEventId). */
  private settled = 0;
  /** Wakes the board's live-event listeners after commits that wrote events. */
  readonly announcer: EventAnnouncer;
  /** The board's announcement (a NOTIFY of its highest event id; see EventAnnouncer). */
  private readonly announceSql: string;
  /** COMMIT, with the board's announcement sent inside the committing transaction (one round trip). */
  private readonly announceAndCommitSql: string;
  /**
   * Set once a message found a statement prepared with PREPARE missing (a transaction pooler): the
   * board's writeAlone and BEGIN reads with values are then not sent that way again.
   */
  private aloneUnavailable = false;

  /** See SqlContext.writesAlone. */
  get writesAlone(): boolean {
    return !this.aloneUnavailable && !this.closed && !this.closing;
  }

  constructor(
    connect: Promise<KanbanPostgres>,
    readonly clock: Clock,
    /** The board's schema (`kanban_<slug>`): its writer-lock key, and what its announcements name. */
    schema: string,
    lockTimeoutMs = 30_000,
    announceGapMs = ANNOUNCE_GAP_MS,
  ) {
    this.schema = schema;
    const lockKey = advisoryLockKey(schema);
    const announce = eventsAnnouncementSql(schema);
    this.announceSql = announce;
    this.announceAndCommitSql = `${announce}; COMMIT`;
    // Failures are not reported: the server is then failing the writes too, and the listeners'
    // backstop poll finds what was not announced.
    this.announcer = new EventAnnouncer(announceGapMs, async () => {
      await this.db?.pool.query(announce).catch(() => {});
    });
    this.ready = connect.then((db) => {
      this.db = db;
    });
    // Observed here so that a board nobody uses never reports an unhandled rejection.
    this.ready.catch(() => {});
    const bound = `(SELECT set_config('lock_timeout', '${Math.max(1, Math.floor(lockTimeoutMs))}', true) OFFSET 0) AS bound`;
    this.lockSql = `SELECT pg_advisory_xact_lock(${BOARD_WRITER_LOCK_CLASS}, ${lockKey}) FROM ${bound}`;
    this.lockSharedSql = `SELECT pg_advisory_xact_lock_shared(${BOARD_WRITER_LOCK_CLASS}, ${lockKey}) FROM ${bound}`;
    this.lockNames = {
      exclusive: preparedName("l", schema, this.lockSql),
      shared: preparedName("l", schema, this.lockSharedSql),
    };
    this.lockRow = { classid: String(BOARD_WRITER_LOCK_CLASS >>> 0), objid: String(lockKey >>> 0) };
  }

  private readonly schema: string;

  now(): number {
    return nowSeconds(this.clock);
  }

  get inTransaction(): boolean {
    const t = inside.current();
    return t?.open === true && t.session === this;
  }

  private async connected(): Promise<KanbanPostgres> {
    if (this.db) return this.db;
    await this.ready;
    return this.db as unknown as KanbanPostgres;
  }

  /** A pooled connection of the board's own (released by the caller); a failure to get one, typed. */
  private async connection(): Promise<PoolClient> {
    const db = this.db ?? (await this.connected());
    try {
      return await db.pool.connect();
    } catch (err) {
      throw db.failure(err);
    }
  }

  private async query(sql: string, args: unknown[], rowMode?: "array"): Promise<QueryResult> {
    if (this.closed) throw closedError();
    const t = translate(sql);
    const statement = statementOf(t.text);
    const config: QueryConfig = { name: statement.name, text: t.text, values: bindValues(t, args) };
    if (rowMode) (config as QueryConfig & { rowMode: string }).rowMode = rowMode;
    const token = inside.current();
    try {
      if (token?.open === true && token.session === this) {
        if (statement.writesEvents) token.wroteEvents = true;
        return await token.client.query(config);
      }
      const db = this.db ?? (await this.connected());
      const result = await db.pool.query(config);
      // Committed on its own already: announced on its own.
      if (statement.writesEvents) this.announcer.owe();
      return result;
    } catch (err) {
      throw this.mapError(err, t);
    }
  }

  async get(sql: string, ...args: unknown[]): Promise<unknown> {
    return (await this.query(sql, args)).rows[0];
  }

  async all(sql: string, ...args: unknown[]): Promise<unknown[]> {
    return (await this.query(sql, args)).rows;
  }

  async run(sql: string, ...args: unknown[]): Promise<SqlRun> {
    return { changes: (await this.query(sql, args)).rowCount ?? 0 };
  }

  async insert(sql: string, ...args: unknown[]): Promise<number> {
    // An event id is only drawn under the board's writer lock (settledEventId's proof rests on it),
    // so an append made outside any transaction becomes one.
    if (!this.inTransaction && /^\s*INSERT\s+INTO\s+task_events\b/i.test(sql))
      return await this.tx(async () => await this.insert(sql, ...args));
    const row = (await this.query(`${sql} RETURNING id`, args)).rows[0] as { id: number } | undefined;
    return Number(row?.id);
  }

  async tasks(sql: string, ...args: unknown[]): Promise<Task[]> {
    const result = await this.query(sql, args, "array");
    const columns = new Map(result.fields.map((f, i) => [f.name, i]));
    return (result.rows as unknown as unknown[][]).map((values) => taskFromValues(columns, values));
  }

  async task(sql: string, ...args: unknown[]): Promise<Task | null> {
    return (await this.tasks(sql, ...args))[0] ?? null;
  }

  /**
   * The highest event id at or below which every event has settled: committed (and seen by any
   * statement begun after this returns) or never to be. A reader that resumes "after event id N"
   * reads no further than this, so it never passes an id whose transaction is still open: with
   * shared writers (see the class comment) ids are drawn in one order and committed in another.
   *
   * Why it holds: every event id is drawn inside a transaction that holds the board's writer lock
   * (exclusive or shared) from before the draw until it has ended (`insert` sees to appends made
   * outside a transaction, and PostgreSQL releases a transaction's locks only after its commit or
   * abort is visible). So after reading the sequence's last value `h`, every transaction that drew
   * an id at or below `h` and has not ended yet holds that lock now. Once each of the holders listed
   * then has let go of it, every id up to `h` is settled. Only this board's writers are waited for;
   * a long transaction elsewhere in the database does not hold readers back. A holder that stays
   * past the wait leaves the last proven value in place (the reader catches up on its next read).
   */
  async settledEventId(): Promise<number> {
    const seq = (await this.get(
      "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('task_events', 'id')::regclass), 0) AS h",
    )) as { h: unknown };
    const h = Number(seq.h);
    if (h === this.settled) return h;
    // Below what was proven: the sequence was set back (a board copied over with --replace); prove anew.
    if (h < this.settled) this.settled = 0;
    const { classid, objid } = this.lockRow;
    const listed = (await this.get(LOCK_HOLDERS_SQL, classid, objid)) as { v: string[] | null };
    const holders = listed.v ?? [];
    if (holders.length > 0) {
      // Inside a transaction a wait would hold its connection (and its lock) for nothing: one look.
      const waits = this.inTransaction ? [0] : SETTLE_WAITS_MS;
      let gone = false;
      for (const ms of waits) {
        if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
        const still = (await this.get(
          `${LOCK_HOLDERS_SQL} AND virtualtransaction = ANY(?)`,
          classid,
          objid,
          holders,
        )) as {
          v: string[] | null;
        };
        if (still.v === null) {
          gone = true;
          break;
        }
      }
      if (!gone) return this.settled;
    }
    if (h > this.settled) this.settled = h;
    return this.settled;
  }

  tx<T>(fn: () => Promise<T> | T, opts?: TxOptions): Promise<T> {
    const token = inside.current();
    if (token?.open === true && token.session === this) {
      // As on SQLite: verbs started together inside one transaction run one after another, each in
      // its own savepoint, under a token of its own. The outermost transaction's lock mode stands.
      const name = `kanban_nested_${++this.savepoints}`;
      const level: TxToken = {
        session: this,
        client: token.client,
        open: true,
        nested: Promise.resolve(),
        wroteEvents: false,
      };
      const nested = token.nested
        .then(async () => {
          await this.send(token.client, `SAVEPOINT ${name}`);
          try {
            const result = await inside.run(level, async () => await fn());
            await this.send(token.client, `RELEASE SAVEPOINT ${name}`);
            // Kept only if the savepoint is: a rolled-back verb's events announce nothing.
            if (level.wroteEvents) token.wroteEvents = true;
            return result;
          } catch (err) {
            await this.send(token.client, `ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`);
            throw err;
          }
        })
        .finally(() => {
          level.open = false;
        });
      token.nested = nested.catch(() => {});
      return nested;
    }
    if (this.closing) return Promise.reject(closedError());
    this.begin();
    inside.began();
    return this.outermost(fn, opts?.shared === true, opts?.withBegin).finally(() => {
      inside.ended();
      this.end();
    });
  }

  /** A statement of the session's own (no values) on `client`; its failure typed, as a verb's would be. */
  private async send(client: PoolClient, sql: string): Promise<void> {
    try {
      await client.query(sql);
    } catch (err) {
      throw this.mapError(err);
    }
  }

  private async outermost<T>(fn: () => Promise<T> | T, shared: boolean, withBegin: TxOptions["withBegin"]): Promise<T> {
    const client = await this.connection();
    this.transactionsBegun++;
    const own: TxToken = { session: this, client, open: true, nested: Promise.resolve(), wroteEvents: false };
    let broken: unknown;
    try {
      try {
        await this.sendBegin(client, shared, withBegin ?? []);
      } catch (err) {
        // The message stops at the statement that failed (the board's lock timing out, most often),
        // inside the transaction it began. Ended here, or the connection would go back to the pool
        // in an aborted transaction and fail every later statement sent on it.
        broken ??= await rollback(client);
        throw this.mapError(err);
      }
      let result: T;
      try {
        result = await inside.run(own, async () => await fn());
        await own.nested;
      } catch (err) {
        own.open = false;
        broken ??= await rollback(client);
        throw err;
      }
      own.open = false;
      try {
        await client.query(own.wroteEvents && this.announcer.takeTurn() ? this.announceAndCommitSql : "COMMIT");
      } catch (err) {
        broken = err;
        throw this.mapError(err);
      }
      return result;
    } finally {
      own.open = false;
      // A connection whose transaction could not be ended cleanly is discarded, not reused.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  /**
   * See SqlContext.writeAlone. The message is the board's lock (with its bound), `EXECUTE` of the
   * statement prepared on this connection with its values written as literals, and the board's
   * announcement when one is due: no BEGIN and no COMMIT. The statements of one simple-protocol
   * message run as one implicit transaction, committed after the last of them, and rolled back by the
   * server when one fails (those after it are not run); each takes its own snapshot, so the
   * statement's is taken once the lock is granted, as inside BEGIN. Both EXECUTEs run plans made
   * once per connection; only their short texts are parsed each time. (The statement's whole text
   * with literals in it would be parsed and planned every time, and cost more than the round trips
   * it saves; BEGIN, COMMIT and a lock statement parsed each time cost about a fifth of a message.)
   * The first use on a connection prepares each first, one round trip more.
   *
   * Writes asked for while an earlier one of the same lock mode still waits for its turn or its
   * connection go in its message (see ALONE_MESSAGES_SHARE): one lock, one commit and one round trip
   * for all of them.
   */
  async writeAlone(sql: string, args: readonly unknown[], opts?: { shared?: boolean }): Promise<unknown[] | null> {
    if (this.closed || this.closing) throw closedError();
    if (this.aloneUnavailable || this.inTransaction) return null;
    const t = translate(sql);
    const values = literalsOf(t, args);
    if (values === null) return null;
    const statement = statementOf(t.text);
    const shared = opts?.shared === true;
    this.begin();
    try {
      return await new Promise<unknown[] | null>((resolve, reject) => {
        const write: AloneWrite = { t, values, writesEvents: statement.writesEvents, resolve, reject };
        const gathering = this.gathering.get(shared);
        if (gathering !== undefined && gathering.length < ALONE_MESSAGE_WRITES) {
          gathering.push(write);
          return;
        }
        const batch = [write];
        this.gathering.set(shared, batch);
        void this.sendGathered(batch, shared);
      });
    } finally {
      this.end();
    }
  }

  /**
   * Per lock mode, the writes waiting for the message they will go in (see writeAlone). A write asked
   * for meanwhile joins them; once their message has its connection, the next write starts anew.
   */
  private readonly gathering = new Map<boolean, AloneWrite[]>();
  /** Messages of gathered writes under way, and the next ones waiting for one of them to end. */
  private aloneSending = 0;
  private readonly aloneQueue: (() => void)[] = [];

  /**
   * Waits for its turn (see ALONE_MESSAGES_SHARE), then for a connection, closes `batch` to newcomers
   * and sends it; settles every write in it.
   */
  private async sendGathered(batch: AloneWrite[], shared: boolean): Promise<void> {
    try {
      const db = this.db ?? (await this.connected());
      const most = Math.max(1, Math.ceil((db.pool.options.max ?? 1) * ALONE_MESSAGES_SHARE));
      while (this.aloneSending >= most) await new Promise<void>((resolve) => this.aloneQueue.push(resolve));
    } catch (err) {
      this.closeGathering(batch, shared);
      for (const w of batch) w.reject(err);
      return;
    }
    this.aloneSending++;
    try {
      let client: PoolClient;
      try {
        client = await this.connection();
      } catch (err) {
        this.closeGathering(batch, shared);
        for (const w of batch) w.reject(err);
        return;
      }
      this.closeGathering(batch, shared);
      let broken: unknown;
      try {
        broken = await this.sendOn(client, batch, shared);
      } catch (err) {
        // Not expected (sendOn settles its writes itself); a write already settled ignores this.
        broken = err;
        for (const w of batch) w.reject(err);
      } finally {
        client.release(broken instanceof Error ? broken : undefined);
      }
    } finally {
      this.aloneSending--;
      this.aloneQueue.shift()?.();
    }
  }

  /** Newcomers no longer join `batch` (a full one may have been replaced by the next already). */
  private closeGathering(batch: AloneWrite[], shared: boolean): void {
    if (this.gathering.get(shared) === batch) this.gathering.delete(shared);
  }

  /**
   * Sends `batch` as one message on `client` and settles each of its writes; answers the error that
   * left the connection unusable, if one did. A server error rolls the whole message back, so when it
   * held more than one write each is sent again in a message of its own: one write's error (a row it
   * must not touch, a constraint) never fails another's.
   */
  private async sendOn(client: PoolClient, batch: AloneWrite[], shared: boolean): Promise<unknown> {
    let lock: string;
    const sent: AloneWrite[] = [];
    const executes: string[] = [];
    try {
      lock = await this.lockStatement(client, shared);
    } catch (err) {
      for (const w of batch) w.reject(err);
      return undefined;
    }
    for (const w of batch) {
      try {
        executes.push(await this.executeOn(client, w.t, w.values));
        sent.push(w);
      } catch (err) {
        w.reject(err);
      }
    }
    if (sent.length === 0) return undefined;
    this.transactionsBegun++;
    const announce = sent.some((w) => w.writesEvents) && this.announcer.takeTurn() ? `; ${this.announceSql}` : "";
    let results: QueryResult[];
    try {
      results = (await client.query(`${lock}; ${executes.join("; ")}${announce}`)) as unknown as QueryResult[];
    } catch (err) {
      // The server's error ended the message and rolled its transaction back: nothing was written,
      // and the connection is ready for the next message. Any other (the connection lost) leaves
      // it unusable.
      const broken = err instanceof Error && "severity" in err ? undefined : err;
      // The session's statements do not outlive a transaction here (a pooler), so this board's
      // later writes take the ordinary way.
      if (this.lostPrepared(err, client)) {
        for (const w of sent) w.resolve(null);
        return broken;
      }
      if (sent.length === 1 || broken !== undefined || failsEveryWrite(err)) {
        for (const w of sent) w.reject(this.mapError(err, w.t));
        return broken;
      }
      for (const [i, w] of sent.entries()) {
        const lost = await this.sendOn(client, [w], shared);
        if (lost !== undefined) {
          for (const rest of sent.slice(i + 1)) rest.reject(this.mapError(lost, rest.t));
          return lost;
        }
      }
      return undefined;
    }
    sent.forEach((w, i) => {
      w.resolve(results[1 + i]?.rows ?? []);
    });
    return undefined;
  }

  /** The board's writer lock as it is sent: `EXECUTE` of its prepared statement, or its text once a pooler lost one. */
  private async lockStatement(client: PoolClient, shared: boolean): Promise<string> {
    const text = shared ? this.lockSharedSql : this.lockSql;
    if (this.aloneUnavailable) return text;
    const name = shared ? this.lockNames.shared : this.lockNames.exclusive;
    return `EXECUTE ${await this.preparedOn(client, name, text)}`;
  }

  /**
   * `EXECUTE <name>(<literals>)` of a translated statement, prepared on `client` first when it has
   * not been. The name is a hash of the board's schema and the text (see preparedAlone).
   */
  private async executeOn(client: PoolClient, t: Translated, values: string[]): Promise<string> {
    let name = this.preparedNames.get(t);
    if (name === undefined) {
      // Hashed once per statement: a hash each time cost about 8 µs a message.
      name = preparedName("w", this.schema, t.text);
      this.preparedNames.set(t, name);
    }
    return `EXECUTE ${await this.preparedOn(client, name, t.text, t)}(${values.join(", ")})`;
  }

  /** `name`, prepared as `text` on `client` first when it has not been (one round trip, once per connection). */
  private async preparedOn(client: PoolClient, name: string, text: string, t?: Translated): Promise<string> {
    let prepared = preparedAlone.get(client);
    if (prepared === undefined) {
      prepared = new Set();
      preparedAlone.set(client, prepared);
    }
    if (!prepared.has(name)) {
      try {
        await client.query(`PREPARE ${name} AS ${text}`);
      } catch (err) {
        if ((err as { code?: unknown }).code !== STATEMENT_EXISTS) throw this.mapError(err, t);
      }
      prepared.add(name);
    }
    return name;
  }

  /**
   * Whether `err` is the server not finding a statement prepared by {@link executeOn}: a transaction
   * pooler ran the message in another server session. The session then stops sending them, and
   * forgets what it believed `client` held.
   */
  private lostPrepared(err: unknown, client: PoolClient): boolean {
    if ((err as { code?: unknown }).code !== NO_SUCH_STATEMENT) return false;
    this.aloneUnavailable = true;
    preparedAlone.delete(client);
    return true;
  }

  /**
   * BEGIN and the board's lock (with its bound), with the reads of `withBegin` in the same message
   * (see TxOptions.withBegin). When the server has lost a prepared statement (a pooler), the
   * transaction is rolled back and begun again with statements that need none.
   */
  private async sendBegin(client: PoolClient, shared: boolean, reads: BeginRead[]): Promise<void> {
    const sent: BeginRead[] = [];
    // BEGIN_STATEMENTS counts these two.
    const parts = ["BEGIN", await this.lockStatement(client, shared)];
    for (const read of reads) {
      if (read.args === undefined) parts.push(read.sql);
      else {
        if (this.aloneUnavailable) continue;
        const t = translate(read.sql);
        const values = literalsOf(t, read.args);
        if (values === null) continue;
        parts.push(await this.executeOn(client, t, values));
      }
      sent.push(read);
    }
    let results: QueryResult[];
    try {
      // One simple-protocol message; each statement in it takes its own snapshot, so the reads' are
      // taken once the lock is granted.
      results = (await client.query(parts.join("; "))) as unknown as QueryResult[];
    } catch (err) {
      if (!this.lostPrepared(err, client)) throw err;
      await client.query("ROLLBACK");
      await this.sendBegin(client, shared, reads);
      return;
    }
    sent.forEach((read, i) => {
      read.rows = results[BEGIN_STATEMENTS + i]?.rows ?? [];
    });
  }

  private begin(): void {
    if (this.active++ === 0) {
      this.idle = new Promise((resolve) => {
        this.markIdle = resolve;
      });
    }
  }

  private end(): void {
    if (--this.active === 0) this.markIdle();
  }

  close(closeConnections: () => void | Promise<void>): Promise<void> {
    if (this.closedAll !== null) return this.closedAll;
    this.closing = true;
    this.closedAll = this.idle.then(async () => {
      // What is owed is sent while the connections are still open.
      await this.announcer.flush().catch(() => {});
      this.closed = true;
      // A pool that fails to end has no connection left to use: the board is closed all the same.
      await Promise.resolve()
        .then(closeConnections)
        .catch(() => {});
    });
    return this.closedAll;
  }

  /** A driver or server error as the kernel's typed errors where it has a meaning beyond a bug. */
  private mapError(err: unknown, t?: Translated): unknown {
    const code = (err as { code?: unknown }).code;
    if (code === "55P03" || code === "40P01" || code === "40001") {
      return new KanbanDbError(
        "DB_BUSY",
        "the board is busy (another writer held it too long); nothing was written, try again",
      );
    }
    if (code === "23505") {
      // Kept recognisable to the store (create.ts treats a taken task id as "pick another").
      const e = err as Error & { constraint?: string };
      return Object.assign(new Error(e.message), { code: "UNIQUE_VIOLATION", constraint: e.constraint });
    }
    const db = this.db;
    // The server or the network failing, or refusing what the board needs (a read-only server, a
    // missing privilege): a typed DB_* error, not a bare driver error that a boundary answers with 500.
    if (db && typeof code === "string" && /^(08|57P|53|25006$|42501$)/.test(code)) return db.failure(err);
    if (db && code === undefined && err instanceof Error && !("severity" in err)) return db.failure(err);
    // A typed error is already one readable line, and may be shared (the pool's failed connect is
    // every waiting call's error): suffixing it would grow it once per call.
    if (t && err instanceof Error && !(err instanceof KanbanDbError))
      err.message = `${err.message} (in: ${t.text.replace(/\s+/g, " ").slice(0, 300)})`;
    return err;
  }
}

function closedError(): KanbanDbError {
  return new KanbanDbError("DB_UNAVAILABLE", "the board was closed (removed, archived or reopened); try again");
}
