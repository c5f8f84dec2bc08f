import os from "node:os";
import { DEFAULT_FAILURE_LIMIT, type EventKind } from "./constants.ts";
import type { IdSource } from "./ids.ts";
import { type ParentState, unfinishedParents } from "./store/sqlite/dependencies.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { endRun, type RunClose } from "./store/sqlite/runs.ts";
import type { Awaitable, SqlSessionHandle } from "./store/port.ts";
import { getTask, requireTask } from "./store/sqlite/tasks.ts";
import type { Task } from "./types.ts";

export type { RunClose } from "./store/sqlite/runs.ts";

/** Whether a process id is alive on this host. Injected: the kernel never inspects processes itself. */
export type PidProbe = (pid: number) => boolean;

/**
 * Shared state of one open board: its engine session (connections, statement caches, transactions,
 * clock: store/sqlite/session.ts on SQLite, store/pg/session.ts on PostgreSQL) plus the injected
 * ports and the board's policy. Store functions take it as their `SqlContext`; it hands each call
 * to the session. The row methods below are conveniences that delegate to the store's functions.
 */
export class BoardContext implements SqlSessionHandle {
  constructor(
    readonly session: SqlSessionHandle,
    readonly ids: IdSource,
    readonly hostname: string = os.hostname() || "unknown",
    readonly pid: number = process.pid,
    readonly isPidAlive: PidProbe = () => false,
    /**
     * The board's circuit-breaker policy (config's `failure_limit`): the one source every verb that
     * judges a breaker (recompute, failures, completions, diagnostics) asks. A function is asked at
     * each use, so a process that re-reads its config (the API's config.json, the dispatcher's
     * reload) changes the number for the next verb without reopening the board. A task's own
     * `max_retries` still wins.
     */
    failureLimit: number | (() => number) = DEFAULT_FAILURE_LIMIT,
  ) {
    this.limitOf = typeof failureLimit === "function" ? failureLimit : () => failureLimit;
    this.dialect = session.dialect;
    // The session's own methods, bound once: every statement of every verb goes through these, and
    // a delegating method would add a call and a rest array to each.
    this.get = session.get.bind(session);
    this.all = session.all.bind(session);
    this.run = session.run.bind(session);
    this.insert = session.insert.bind(session);
    this.tasks = session.tasks.bind(session);
    this.task = session.task.bind(session);
    this.tx = session.tx.bind(session);
    this.writeAlone = session.writeAlone?.bind(session);
  }

  readonly dialect: SqlSessionHandle["dialect"];
  readonly get: SqlSessionHandle["get"];
  readonly all: SqlSessionHandle["all"];
  readonly run: SqlSessionHandle["run"];
  readonly insert: SqlSessionHandle["insert"];
  readonly tasks: SqlSessionHandle["tasks"];
  readonly task: SqlSessionHandle["task"];
  readonly tx: SqlSessionHandle["tx"];
  readonly writeAlone: SqlSessionHandle["writeAlone"];
  now(): number {
    return this.session.now();
  }
  get writesAlone(): boolean {
    return this.session.writesAlone === true;
  }
  get inTransaction(): boolean {
    return this.session.inTransaction;
  }
  get transactionsBegun(): number {
    return this.session.transactionsBegun;
  }
  close(closeConnections: () => void | Promise<void>): Promise<void> {
    return this.session.close(closeConnections);
  }

  private readonly limitOf: () => number;

  /** The board's failure limit now (see the constructor). */
  get failureLimit(): number {
    return this.limitOf();
  }

  /** `<hostname>:<pid>`: the default claimer id, and what "host-local" locks start with. */
  get defaultClaimer(): string {
    return `${this.hostname}:${this.pid}`;
  }

  isHostLocal(lock: string | null): boolean {
    return lock?.startsWith(`${this.hostname}:`) === true;
  }

  // The delegates below hand back the store function's own result (a value on SQLite, a promise on
  // PostgreSQL), not a promise of their own: every layer of async function costs a promise and an
  // await on each call, and these are on every write's path.

  getTask(id: string): Awaitable<Task | null> {
    return getTask(this, id);
  }

  requireTask(id: string): Awaitable<Task> {
    return requireTask(this, id);
  }

  appendEvent(
    taskId: string,
    kind: EventKind,
    payload: Record<string, unknown> | null,
    runId: number | null = null,
  ): Awaitable<number> {
    return appendEvent(this, taskId, kind, payload, runId);
  }

  /** See store/sqlite/runs.ts {@link endRun}. */
  endRun(taskId: string, close: RunClose): Awaitable<number | null> {
    return endRun(this, taskId, close);
  }

  /** Direct parents that are neither done nor archived. */
  unfinishedParents(taskId: string): Awaitable<ParentState[]> {
    return unfinishedParents(this, taskId);
  }
}
