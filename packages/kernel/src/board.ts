import {
  type BoardLocation,
  type BoardOpenOptions,
  boardLocationFromEnv,
  currentBoard,
  type KanbanDatabase,
  normaliseSlug,
  openBoardDatabase,
  openDatabase,
  readBoardMetadata,
} from "@kanban/db";
import * as activity from "./activity.ts";
import * as archive from "./archive.ts";
import * as assign from "./assign.ts";
import * as block from "./block.ts";
import { type FailureInput, recordTaskFailure } from "./breaker.ts";
import * as claim from "./claim.ts";
import { claimNext, ReadyLane, type ReadyLaneFilter } from "./claim-next.ts";
import { type Clock, systemClock } from "./clock.ts";
import * as complete from "./complete.ts";
import { DEFAULT_CLAIM_TTL_SECONDS } from "./constants.ts";
import { BoardContext, type PidProbe } from "./context.ts";
import { type CreateTaskInput, createTask } from "./create.ts";
import * as edit from "./edit.ts";
import type { Fence } from "./fencing.ts";
import * as graph from "./graph.ts";
import { type IdSource, randomIds } from "./ids.ts";
import * as list from "./list.ts";
import * as notify from "./notify.ts";
import { patchTask, type TaskPatch } from "./patch.ts";
import * as recovery from "./recovery.ts";
import { respawnGuard } from "./respawn-guard.ts";
import * as laneStore from "./store/sqlite/ready-lane.ts";
import { boardDiagnostics, type BoardDiagnosticsOptions } from "./diagnostics.ts";
import { gcEvents } from "./stats.ts";
import * as boardReads from "./store/sqlite/board-reads.ts";
import * as links from "./store/sqlite/links.ts";
import * as liveEvents from "./store/sqlite/live-events.ts";
import * as taskPages from "./store/sqlite/task-pages.ts";
import * as tenants from "./store/sqlite/tenants.ts";
import * as workers from "./store/sqlite/workers.ts";
import { buildWorkerContext } from "./worker-context.ts";
import type { Task, TaskWarnings } from "./types.ts";
import { type DiagnosticsPolicy, newTaskWarnings, taskWarnings } from "./warnings.ts";
import type { WorkspaceRules } from "./workspace-rules.ts";

export interface OpenBoardOptions extends BoardOpenOptions {
  /** A board slug under `location` (default: the current board). Ignored when `path` is given. */
  board?: string;
  /** Open this database file directly. */
  path?: string;
  /** Where boards live; defaults to KANBAN_HOME-style resolution from `env`. */
  location?: BoardLocation;
  /** Environment used only when `location` is absent (processes pass `process.env`). */
  env?: Record<string, string | undefined>;
  clock?: Clock;
  ids?: IdSource;
  /** Liveness of a host-local worker pid; the dispatcher injects a real probe. */
  isPidAlive?: PidProbe;
  hostname?: string;
  pid?: number;
  claimTtlSeconds?: number;
  /**
   * The board's circuit-breaker limit (config's `failure_limit`, default 2): the one number every
   * verb and diagnostic judges a breaker against (a task's own `max_retries` wins). A function is
   * asked each time the number is needed, so a process that re-reads its config (the API, the
   * dispatcher) never judges with a stale one; verbs take no per-call limit.
   */
  failureLimit?: number | (() => number);
  /** Board-level project directory for dir/worktree tasks created without a path. */
  defaultWorkdir?: string | null;
  /**
   * The host's known profiles diagnostics (and so `warnings`) judge assignees against, asked at
   * each read so a config edit counts at once (absent: profiles unknown). The failure limit is
   * `failureLimit`'s, never a second source.
   */
  diagnosticsPolicy?: () => LiveProfiles;
  /** Told each time a read runs the diagnostics engine (tests count runs per board refresh). */
  onDiagnosticsRun?: () => void;
}

/** The live part of the diagnostics policy a process supplies (see `OpenBoardOptions.diagnosticsPolicy`). */
export type LiveProfiles = { knownProfiles?: readonly string[] | null };

/** A task as returned by get/list: the row plus its warning badge (null when clean). */
export type TaskView = Task & { warnings: TaskWarnings | null };

/**
 * An open board: the whole task lifecycle over one SQLite file. Every mutation is one
 * compare-and-swap inside `BEGIN IMMEDIATE`, with its runs and events written in the same
 * transaction. Methods that the spec marks as worker-side accept a {@link Fence}.
 */
export class Board {
  // Private: nothing outside the kernel holds the connection (tests use boardInternals from ./testing).
  private readonly ctx: BoardContext;
  readonly slug: string | null;
  private readonly claimTtl: number;
  private readonly defaultWorkdir: string | null;
  private readonly policy: (() => LiveProfiles) | undefined;
  private readonly onDiagnosticsRun: (() => void) | undefined;

  constructor(
    private readonly database: KanbanDatabase,
    opts: {
      slug: string | null;
      clock: Clock;
      ids: IdSource;
      isPidAlive?: PidProbe;
      hostname?: string;
      pid?: number;
      claimTtlSeconds?: number;
      failureLimit?: number | (() => number);
      defaultWorkdir?: string | null;
      diagnosticsPolicy?: () => LiveProfiles;
      onDiagnosticsRun?: () => void;
    },
  ) {
    this.ctx = new BoardContext(
      database.sqlite,
      opts.clock,
      opts.ids,
      opts.hostname,
      opts.pid,
      opts.isPidAlive,
      opts.failureLimit,
    );
    this.slug = opts.slug;
    this.claimTtl = opts.claimTtlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS;
    this.defaultWorkdir = opts.defaultWorkdir ?? null;
    this.policy = opts.diagnosticsPolicy;
    this.onDiagnosticsRun = opts.onDiagnosticsRun;
  }

  get path(): string {
    return this.database.path;
  }
  now(): number {
    return this.ctx.now();
  }
  close(): void {
    this.database.close();
  }

  private view(task: Task, warnings?: Map<string, TaskWarnings>): TaskView {
    const w = warnings ?? this.warnings([task.id]);
    return { ...task, warnings: w.get(task.id) ?? null };
  }

  /** The failure limit and known profiles this board's diagnostics are judged against, now. */
  diagnosticsPolicy(): DiagnosticsPolicy {
    const live = this.policy?.() ?? {};
    return { failureLimit: this.ctx.failureLimit, knownProfiles: live.knownProfiles ?? null };
  }

  /** The board's policy; a caller may pass known profiles explicitly (undefined = not given). */
  private judged(opts: { knownProfiles?: readonly string[] | null }) {
    const p = this.diagnosticsPolicy();
    return {
      failureLimit: p.failureLimit,
      knownProfiles: opts.knownProfiles === undefined ? p.knownProfiles : opts.knownProfiles,
      onDiagnosticsRun: this.onDiagnosticsRun,
    };
  }

  // --- create / read ---
  /** `rules.allowedWorkspaceRoots`: confine a dir/worktree path (the API passes config's `workspace_roots` for tenants). */
  createTask(input: CreateTaskInput, rules: WorkspaceRules = {}): TaskView {
    const task = createTask(this.ctx, input, { defaultWorkdir: this.defaultWorkdir }, rules);
    // A newly inserted task is judged from the row in hand (it has no history to read). An
    // idempotent hit may return an older task, judged in full from the database.
    if (input.idempotency_key) return this.view(task);
    return { ...task, warnings: newTaskWarnings(task, this.diagnosticsPolicy(), this.ctx.now()) };
  }
  getTask(id: string): TaskView | null {
    const t = this.ctx.getTask(id);
    return t ? this.view(t) : null;
  }
  requireTask(id: string): TaskView {
    return this.view(this.ctx.requireTask(id));
  }
  listTasks(filter: list.ListTasksFilter = {}): TaskView[] {
    const tasks = list.listTasks(this.ctx, filter);
    // One run of the engine for the whole list: confined to the ids for a short list; for a long
    // one the board's candidates (found through indexes) are cheaper than judging every row.
    const warnings = this.warnings(tasks.length > 200 ? undefined : tasks.map((t) => t.id));
    return tasks.map((t) => this.view(t, warnings));
  }
  parentIds(id: string) {
    return list.parentIds(this.ctx, id);
  }
  childIds(id: string) {
    return list.childIds(this.ctx, id);
  }
  parentResults(id: string) {
    return list.parentResults(this.ctx, id);
  }
  /**
   * `warnings` of these tasks (undefined = every task): the summary of each one's diagnostics, the
   * card badge of `board.get`; tasks without a diagnostic are absent (their `warnings` is null).
   */
  warnings(ids?: readonly string[]): Map<string, TaskWarnings> {
    return taskWarnings(this.ctx, ids, this.diagnosticsPolicy(), this.onDiagnosticsRun);
  }

  // --- assignment and graph ---
  /** `extra` is merged into the `assigned` event payload (e.g. the dispatcher's `source`). */
  assignTask(id: string, profile: string | null, extra: Record<string, unknown> = {}) {
    return assign.assignTask(this.ctx, id, profile, extra);
  }
  reassignTask(id: string, profile: string | null, opts: { reclaimFirst?: boolean; reason?: string | null } = {}) {
    return assign.reassignTask(this.ctx, id, profile, opts);
  }
  linkTasks(parent: string, child: string) {
    return graph.linkTasks(this.ctx, parent, child);
  }
  unlinkTasks(parent: string, child: string) {
    return graph.unlinkTasks(this.ctx, parent, child);
  }
  recomputeReady() {
    return graph.recomputeReady(this.ctx);
  }
  promoteTask(id: string, opts: { actor?: string | null; reason?: string | null; dryRun?: boolean } = {}) {
    return graph.promoteTask(this.ctx, id, opts);
  }

  // --- claims ---
  claimTask(id: string, opts: claim.ClaimOptions = {}) {
    return claim.claimTask(this.ctx, id, opts, this.claimTtl);
  }
  heartbeatClaim(id: string, opts: claim.ClaimOptions & Fence = {}) {
    return claim.heartbeatClaim(this.ctx, id, opts, this.claimTtl);
  }
  heartbeatWorker(id: string, opts: { note?: string | null } & Fence = {}) {
    return claim.heartbeatWorker(this.ctx, id, opts);
  }
  /** A worker's heartbeat: extends its lease and records a `heartbeat` event, in one transaction. */
  heartbeat(id: string, opts: { note?: string | null; ttl_seconds?: number | null } & Fence = {}) {
    return claim.heartbeat(this.ctx, id, opts, this.claimTtl);
  }
  recordSpawn(id: string, pid: number, runId: number) {
    return claim.recordSpawn(this.ctx, id, pid, runId);
  }
  setWorkspace(id: string, workspacePath: string, branchName?: string | null) {
    return claim.setWorkspace(this.ctx, id, workspacePath, branchName);
  }
  /** One walk over the ready lane (a dispatcher tick); pass it to {@link claimNext} until it says no more. */
  readyLane(filter: ReadyLaneFilter = {}) {
    return new ReadyLane(filter);
  }
  /** Selects the lane's next eligible ready tasks and claims up to `limit` of them, in one transaction (claim-next.ts). */
  claimNext(lane: ReadyLane, lease: claim.ClaimOptions = {}, limit = 1) {
    return claimNext(this.ctx, lane, limit, {
      claim: (id) => claim.claimTask(this.ctx, id, lease, this.claimTtl),
      assign: (id, profile, extra) => this.assignTask(id, profile, extra),
    });
  }
  /** Running tasks on this board. */
  runningCount() {
    return laneStore.runningCount(this.ctx);
  }
  /** Running tasks with a worker pid, by id (the dispatcher's status file). */
  runningWorkers() {
    return laneStore.runningWorkers(this.ctx);
  }
  /** Running tasks claimed by `lock` that never recorded a worker (its claimer died before spawning). */
  unspawnedClaims(lock: string) {
    return laneStore.unspawnedClaims(this.ctx, lock);
  }

  // --- settling ---
  completeTask(id: string, input: complete.CompleteInput = {}) {
    return complete.completeTask(this.ctx, id, input);
  }
  editCompletedResult(
    id: string,
    input: { result: string; summary?: string | null; metadata?: Record<string, unknown> | null },
  ) {
    return complete.editCompletedResult(this.ctx, id, input);
  }
  /** `comment_author` also stores the reason as a `BLOCKED:` comment, in the same transaction. */
  blockTask(id: string, opts: block.ParkOptions & Fence = {}) {
    return block.blockTask(this.ctx, id, opts);
  }
  /** `comment_author` also stores the reason as a `SCHEDULED:` comment, in the same transaction. */
  scheduleTask(id: string, opts: block.ParkOptions & Fence = {}) {
    return block.scheduleTask(this.ctx, id, opts);
  }
  /** `comment_author` also stores the reason as an `UNBLOCK:` comment, in the same transaction. */
  unblockTask(id: string, opts: block.ParkOptions = {}) {
    return block.unblockTask(this.ctx, id, opts);
  }
  archiveTask(id: string) {
    return archive.archiveTask(this.ctx, id);
  }
  deleteArchivedTask(id: string) {
    return archive.deleteArchivedTask(this.ctx, id);
  }
  deleteTask(id: string) {
    return archive.deleteTask(this.ctx, id);
  }
  updateTask(id: string, patch: Parameters<typeof edit.updateTask>[2]) {
    return edit.updateTask(this.ctx, id, patch);
  }
  setStatusDirect(id: string, status: string) {
    return edit.setStatusDirect(this.ctx, id, status);
  }
  moveTask(id: string, input: edit.MoveInput) {
    return edit.moveTask(this.ctx, id, input);
  }
  /**
   * The drawer's and drag-drop's edit (`tasks.patch`) as one transaction: assignee, status, model
   * override, priority, then title/body/limits (patch.ts). Stop `terminate` once it returns.
   */
  patchTask(id: string, patch: TaskPatch) {
    const out = patchTask(this.ctx, id, patch);
    return { task: this.view(out.task), terminate: out.terminate };
  }

  // --- activity ---
  addComment(id: string, author: string, body: string, fence: Fence = {}) {
    return activity.addComment(this.ctx, id, author, body, fence);
  }
  listComments(id: string) {
    return activity.listComments(this.ctx, id);
  }
  listEvents(id: string, opts: { limit?: number } = {}) {
    return activity.listEvents(this.ctx, id, opts);
  }
  eventsAfter(cursor: number, filter: activity.EventStreamFilter = {}) {
    return activity.eventsAfter(this.ctx, cursor, filter);
  }
  latestEventId() {
    return activity.latestEventId(this.ctx);
  }
  listRuns(id: string, opts: { include_active?: boolean } = {}) {
    return activity.listRuns(this.ctx, id, opts);
  }
  getRun(runId: number) {
    return activity.getRun(this.ctx, runId);
  }
  activeRun(id: string) {
    return activity.activeRun(this.ctx, id);
  }
  latestRun(id: string) {
    return activity.latestRun(this.ctx, id);
  }
  latestSummary(id: string) {
    return activity.latestSummary(this.ctx, id);
  }
  latestSummaries(ids?: string[]) {
    return activity.latestSummaries(this.ctx, ids);
  }

  // --- the API's reads (SQL in store/sqlite/*; the API holds no connection) ---
  /**
   * The whole board view: columns, card extras, tenants, assignees and the attention rows, with the
   * diagnostics engine run once (store/sqlite/board-reads.ts), judged by the board's failure limit;
   * `knownProfiles` defaults to the board's policy.
   */
  boardView(slug: string, filter: boardReads.BoardFilter, opts: Omit<boardReads.BoardViewOptions, "failureLimit">) {
    return boardReads.boardView(this.ctx, slug, filter, { ...opts, ...this.judged(opts) });
  }
  /** One page of one board column, continuing from a cursor (diagnostics confined to the page). */
  columnPage(column: string, filter: boardReads.BoardFilter, opts: Omit<boardReads.ColumnPageOptions, "failureLimit">) {
    return boardReads.columnPage(this.ctx, column, filter, { ...opts, ...this.judged(opts) });
  }
  /** Adds the card extras (age, summary, counts, progress, diagnostics) to task DTOs, in place. */
  decorateCards(tasks: boardReads.TaskDto[], opts: Omit<boardReads.DecorateOptions, "failureLimit">) {
    return boardReads.decorate(this.ctx, tasks, { ...opts, ...this.judged(opts) });
  }
  diagnosticsByTask(taskId?: string, knownProfiles?: readonly string[] | null) {
    const p = this.judged({ knownProfiles });
    return boardReads.diagnosticsByTask(this.ctx, p.failureLimit, taskId, p.knownProfiles, p.onDiagnosticsRun);
  }
  /** Every diagnostic of the board (or one task), worst first. */
  diagnostics(opts: Omit<BoardDiagnosticsOptions, "failureLimit"> = {}) {
    const p = this.judged(opts);
    return boardDiagnostics(this.ctx, {
      ...opts,
      failureLimit: p.failureLimit,
      knownProfiles: p.knownProfiles,
      onRun: p.onDiagnosticsRun,
    });
  }
  /** One keyset page of `tasks.list` (store/sqlite/task-pages.ts), with each task's `warnings`. */
  taskPage(filter: Parameters<typeof taskPages.taskPage>[1], opts: Parameters<typeof taskPages.taskPage>[2]) {
    return taskPages.taskPage(this.ctx, filter, opts, (ids) => this.warnings(ids));
  }
  /** Edges touching `ids` whose both ends lie in `scope` (a tenant; null = every tenant). */
  linkEdges(ids: string[], scope: string | null = null) {
    return links.linkEdges(this.ctx, ids, scope);
  }
  /** A task's parents within `scope` (a tenant; null = every tenant). */
  linkedParents(id: string, scope: string | null = null) {
    return links.linkedParents(this.ctx, id, scope);
  }
  /** A task's children within `scope` (a tenant; null = every tenant). */
  linkedChildren(id: string, scope: string | null = null) {
    return links.linkedChildren(this.ctx, id, scope);
  }
  /** The markdown a worker reads before it starts. */
  workerContext(id: string) {
    return buildWorkerContext(this.ctx, id);
  }
  activeWorkers(tenant: string | null) {
    return workers.activeWorkers(this.ctx, tenant);
  }
  statsFor(tenant: string | null) {
    return workers.statsFor(this.ctx, tenant);
  }
  assigneesFor(profiles: string[], tenant: string | null) {
    return workers.assigneesFor(this.ctx, profiles, tenant);
  }
  statusCounts(tenant: string | null) {
    return workers.statusCounts(this.ctx, tenant);
  }
  tenantTaskIds(tenant: string) {
    return tenants.tenantTaskIds(this.ctx, tenant);
  }
  createdBySince(id: string, profile: string, since: number, tenant: string | null) {
    return tenants.createdBySince(this.ctx, id, profile, since, tenant);
  }
  archivedScratchTasks() {
    return tenants.archivedScratchTasks(this.ctx);
  }
  liveEventRows(afterId: number, limit: number) {
    return liveEvents.liveEventRows(this.ctx, afterId, limit);
  }
  /** Deletes events of finished tasks older than `retentionSeconds`; returns how many. */
  gcEvents(retentionSeconds: number) {
    return gcEvents(this.ctx, retentionSeconds);
  }

  // --- verbs that span a caller's step ---
  /**
   * Claims `id` and hands the claimed task (or null: not claimable) to `then`, all in one
   * transaction: whatever `then` throws (a workspace that cannot be made) undoes the claim.
   */
  claimWithWorkspace<R>(id: string, opts: claim.ClaimOptions, then: (claimed: Task | null) => R): R {
    return this.ctx.tx(() => then(claim.claimTask(this.ctx, id, opts, this.claimTtl)));
  }
  /** Runs several verbs as one transaction: a throw anywhere keeps none of their changes. */
  atomically<T>(fn: () => T): T {
    return this.ctx.tx(fn);
  }

  // --- recovery and the breaker ---
  releaseStaleClaims(opts: recovery.RecoveryOptions = {}) {
    return recovery.releaseStaleClaims(this.ctx, { claimTtlSeconds: this.claimTtl, ...opts });
  }
  detectCrashedWorkers(opts: Parameters<typeof recovery.detectCrashedWorkers>[1] = {}) {
    return recovery.detectCrashedWorkers(this.ctx, opts);
  }
  enforceMaxRuntime() {
    return recovery.enforceMaxRuntime(this.ctx);
  }
  detectStaleRunning(staleTimeoutSeconds: number) {
    return recovery.detectStaleRunning(this.ctx, staleTimeoutSeconds);
  }
  reclaimTask(id: string, opts: { reason?: string | null } = {}) {
    return recovery.reclaimTask(this.ctx, id, opts);
  }
  /** Ends a live run by reclaiming its task, only while it is the task's current run (recovery.ts). */
  terminateRun(runId: number, opts: { reason?: string | null } = {}) {
    return recovery.terminateRun(this.ctx, runId, opts);
  }
  /** Why the dispatcher should not spawn this ready task again right now (null = go ahead). */
  respawnGuard(id: string) {
    return respawnGuard(this.ctx, id);
  }
  /** Records that the dispatcher held a task back (event `respawn_guarded`). */
  recordRespawnGuarded(id: string, reason: string) {
    this.ctx.tx(() => this.ctx.appendEvent(id, "respawn_guarded", { reason }));
  }
  recordTaskFailure(id: string, input: FailureInput) {
    return recordTaskFailure(this.ctx, id, input);
  }

  // --- notify subscriptions ---
  addNotifySub(input: notify.NotifySubInput) {
    return notify.addNotifySub(this.ctx, input);
  }
  listNotifySubs(taskId?: string | null) {
    return notify.listNotifySubs(this.ctx, taskId);
  }
  removeNotifySub(key: notify.NotifySubKey) {
    return notify.removeNotifySub(this.ctx, key);
  }
  unseenEventsForSub(key: notify.NotifySubKey, kinds?: string[]) {
    return notify.unseenEventsForSub(this.ctx, key, kinds);
  }
  claimUnseenEventsForSub(key: notify.NotifySubKey, kinds?: string[]) {
    return notify.claimUnseenEventsForSub(this.ctx, key, kinds);
  }
  rewindNotifyCursor(key: notify.NotifySubKey, claimed: number, old: number) {
    return notify.rewindNotifyCursor(this.ctx, key, claimed, old);
  }
  advanceNotifyCursor(key: notify.NotifySubKey, cursor: number) {
    return notify.advanceNotifyCursor(this.ctx, key, cursor);
  }
}

/**
 * Opens a board for the whole lifecycle: `openBoard({ board })` for a board under KANBAN_HOME,
 * `openBoard({ path })` for a file. The database is created, checked and upgraded on first open.
 */
export function openBoard(opts: OpenBoardOptions = {}): Board {
  const ports = {
    clock: opts.clock ?? systemClock,
    ids: opts.ids ?? randomIds,
    isPidAlive: opts.isPidAlive,
    hostname: opts.hostname,
    pid: opts.pid,
    claimTtlSeconds: opts.claimTtlSeconds,
    failureLimit: opts.failureLimit,
    diagnosticsPolicy: opts.diagnosticsPolicy,
    onDiagnosticsRun: opts.onDiagnosticsRun,
  };
  const dbOpts: BoardOpenOptions = {
    synchronous: opts.synchronous,
    busyTimeoutMs: opts.busyTimeoutMs,
    integrityCheck: opts.integrityCheck,
    warn: opts.warn,
    migrationsFolder: opts.migrationsFolder,
    nowSeconds: () => Math.floor(ports.clock.now() / 1000),
  };
  if (opts.path) {
    return new Board(openDatabase({ ...dbOpts, path: opts.path }), {
      ...ports,
      slug: null,
      defaultWorkdir: opts.defaultWorkdir,
    });
  }
  const loc = opts.location ?? boardLocationFromEnv(opts.env ?? {});
  const slug = opts.board ? normaliseSlug(opts.board) : currentBoard(loc);
  const meta = readBoardMetadata(loc, slug);
  return new Board(openBoardDatabase(loc, slug, dbOpts), {
    ...ports,
    slug,
    defaultWorkdir: opts.defaultWorkdir ?? meta.default_workdir,
  });
}
