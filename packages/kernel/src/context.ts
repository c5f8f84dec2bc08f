import os from "node:os";
import { DEFAULT_FAILURE_LIMIT, type EventKind } from "./constants.ts";
import type { IdSource } from "./ids.ts";
import { type ParentState, unfinishedParents } from "./store/sqlite/dependencies.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { endRun, type RunClose } from "./store/sqlite/runs.ts";
import type { SqlRun, SqlSessionHandle } from "./store/port.ts";
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
  }

  readonly dialect: SqlSessionHandle["dialect"];
  now(): number {
    return this.session.now();
  }
  get inTransaction(): boolean {
    return this.session.inTransaction;
  }
  get transactionsBegun(): number {
    return this.session.transactionsBegun;
  }
  get(sql: string, ...args: unknown[]): unknown {
    return this.session.get(sql, ...args);
  }
  all(sql: string, ...args: unknown[]): unknown[] | Promise<unknown[]> {
    return this.session.all(sql, ...args);
  }
  run(sql: string, ...args: unknown[]): SqlRun | Promise<SqlRun> {
    return this.session.run(sql, ...args);
  }
  insert(sql: string, ...args: unknown[]): number | Promise<number> {
    return this.session.insert(sql, ...args);
  }
  tasks(sql: string, ...args: unknown[]): Task[] | Promise<Task[]> {
    return this.session.tasks(sql, ...args);
  }
  task(sql: string, ...args: unknown[]): Task | null | Promise<Task | null> {
    return this.session.task(sql, ...args);
  }
  tx<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.session.tx(fn);
  }
  close(closeConnections: () => void | Promise<void>): void {
    this.session.close(closeConnections);
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

  async getTask(id: string): Promise<Task | null> {
    return await getTask(this, id);
  }

  async requireTask(id: string): Promise<Task> {
    return await requireTask(this, id);
  }

  async appendEvent(
    taskId: string,
    kind: EventKind,
    payload: Record<string, unknown> | null,
    runId: number | null = null,
  ): Promise<number> {
    return await appendEvent(this, taskId, kind, payload, runId);
  }

  /** See store/sqlite/runs.ts {@link endRun}. */
  async endRun(taskId: string, close: RunClose): Promise<number | null> {
    return await endRun(this, taskId, close);
  }

  /** Direct parents that are neither done nor archived. */
  async unfinishedParents(taskId: string): Promise<ParentState[]> {
    return await unfinishedParents(this, taskId);
  }
}
