import os from "node:os";
import type Database from "better-sqlite3";
import type { Clock } from "./clock.ts";
import { DEFAULT_FAILURE_LIMIT, type EventKind } from "./constants.ts";
import type { IdSource } from "./ids.ts";
import { type ParentState, unfinishedParents } from "./store/sqlite/dependencies.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { endRun, type RunClose } from "./store/sqlite/runs.ts";
import { SqlSession } from "./store/sqlite/session.ts";
import { getTask, requireTask } from "./store/sqlite/tasks.ts";
import type { Task } from "./types.ts";

export type { RunClose } from "./store/sqlite/runs.ts";

/** Whether a process id is alive on this host. Injected: the kernel never inspects processes itself. */
export type PidProbe = (pid: number) => boolean;

/**
 * Shared state of one open board: the SQL session (connection, statement caches, transactions,
 * clock; store/sqlite/session.ts) plus the injected ports and the board's policy. The row methods
 * below are conveniences that delegate to the store's functions.
 */
export class BoardContext extends SqlSession {
  constructor(
    sqlite: Database.Database,
    clock: Clock,
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
    super(sqlite, clock);
    this.limitOf = typeof failureLimit === "function" ? failureLimit : () => failureLimit;
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

  getTask(id: string): Task | null {
    return getTask(this, id);
  }

  requireTask(id: string): Task {
    return requireTask(this, id);
  }

  appendEvent(
    taskId: string,
    kind: EventKind,
    payload: Record<string, unknown> | null,
    runId: number | null = null,
  ): number {
    return appendEvent(this, taskId, kind, payload, runId);
  }

  /** See store/sqlite/runs.ts {@link endRun}. */
  endRun(taskId: string, close: RunClose): number | null {
    return endRun(this, taskId, close);
  }

  /** Direct parents that are neither done nor archived. */
  unfinishedParents(taskId: string): ParentState[] {
    return unfinishedParents(this, taskId);
  }
}
