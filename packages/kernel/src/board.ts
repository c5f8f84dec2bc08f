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
import * as budgets from "./budgets.ts";
import * as views from "./views.ts";
import * as gateCommands from "./gate-commands.ts";
import * as gateEvidence from "./gate-evidence.ts";
import * as gates from "./gates.ts";
import { type FailureInput, recordTaskFailure } from "./breaker.ts";
import { type CancelOptions, type CancelResult, cancelTask } from "./cancel.ts";
import * as claim from "./claim.ts";
import { type ClaimNextResult, claimNext, ReadyLane, type ReadyLaneFilter } from "./claim-next.ts";
import { type Clock, systemClock } from "./clock.ts";
import * as complete from "./complete.ts";
import { DEFAULT_CLAIM_TTL_SECONDS } from "./constants.ts";
import { BoardContext, type PidProbe } from "./context.ts";
import { type CreateTaskInput, createTask } from "./create.ts";
import * as edit from "./edit.ts";
import type { Fence } from "./fencing.ts";
import * as graph from "./graph.ts";
import * as hosts from "./hosts.ts";
import * as incidents from "./incidents.ts";
import { type IdSource, randomIds } from "./ids.ts";
import * as list from "./list.ts";
import * as notify from "./notify.ts";
import * as notifyRules from "./notify-rules.ts";
import * as notifyDeliveries from "./notify-deliveries.ts";
import { patchTask, type TaskPatch } from "./patch.ts";
import { type PreviousRun, previousRun } from "./previous-run.ts";
import { normaliseRequires } from "./labels.ts";
import * as recovery from "./recovery.ts";
import * as review from "./review.ts";
import { type AutoReviveConfig, reviveBrokenCards } from "./auto-revive.ts";
import { type RemoteExit, type RemoteExitResult, recordRemoteExit } from "./remote-exit.ts";
import { respawnGuard } from "./respawn-guard.ts";
import * as termination from "./termination.ts";
import * as usage from "./usage.ts";
import { notFound } from "./errors.ts";
import { motionsByIds } from "./motion/explain.ts";
import type { HostFacts, Motion, MotionScope } from "./motion/types.ts";
import type { SqlDialect, SqlSessionHandle } from "./store/port.ts";
import { SqliteSession } from "./store/sqlite/session.ts";
import * as laneStore from "./store/sqlite/ready-lane.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { endRun } from "./store/sqlite/runs.ts";
import { CLEAR_CLAIM } from "./store/sqlite/sql-fragments.ts";
import { getTask as getStoredTask, swapStatus } from "./store/sqlite/tasks.ts";
import { boardDiagnostics, type BoardDiagnosticsOptions } from "./diagnostics.ts";
import { gcEvents } from "./stats.ts";
import { type FlowOptions, flowStats } from "./flow.ts";
import { flowBlockedCards } from "./flow-blocked.ts";
import { CATCH_UP_LIMITS, catchUpFlowLedger } from "./flow-ledger.ts";
import * as boardDeltas from "./store/sqlite/board-delta.ts";
import * as boardReads from "./store/sqlite/board-reads.ts";
import * as links from "./store/sqlite/links.ts";
import * as requiresStore from "./store/sqlite/requires.ts";
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

/** What {@link Board.claimForHost} takes: the host, what it offers, and how much it claims. */
export interface ClaimForHostInput {
  host_id: string;
  /** The host dispatcher's pid: the claim lock is `<host_id>:<pid>` (0 when not given). */
  pid?: number | null;
  /** The labels of the host's hello (never a claim's own input). */
  labels: readonly string[];
  /** The tenant of the host's token: only that tenant's tasks (null: every tenant). */
  tenant: string | null;
  /** Claim at most this many. */
  max: number;
  /** The lease of each claim; the host's heartbeats renew it. */
  lease_seconds: number;
  /** Assignees the host can start a worker for (absent: any). */
  isSpawnable?: (profile: string) => boolean;
  defaultAssignee?: string | null;
  maxPerProfile?: number | null;
}

/** The live part of the diagnostics policy a process supplies (see `OpenBoardOptions.diagnosticsPolicy`). */
export type LiveProfiles = { knownProfiles?: readonly string[] | null };

/**
 * A task as returned by get/list: the row plus its warning badge (null when clean) and the labels a
 * host must offer to claim it (`[]` when none; stored beside Hermes' row, see labels.ts).
 */
export type TaskView = Task & { warnings: TaskWarnings | null; requires: string[] };

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
    private readonly storage: BoardStorage,
    opts: {
      slug: string | null;
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
    this.ctx = new BoardContext(storage.session, opts.ids, opts.hostname, opts.pid, opts.isPidAlive, opts.failureLimit);
    this.slug = opts.slug;
    this.claimTtl = opts.claimTtlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS;
    this.defaultWorkdir = opts.defaultWorkdir ?? null;
    this.policy = opts.diagnosticsPolicy;
    this.onDiagnosticsRun = opts.onDiagnosticsRun;
  }

  /** Which database engine holds this board. */
  get engine(): SqlDialect {
    return this.ctx.dialect;
  }
  get path(): string {
    return this.storage.path;
  }
  now(): number {
    return this.ctx.now();
  }
  /**
   * Closes the board once its queued and running transactions have settled (see SqlSession.close).
   * The promise resolves when its connections are closed (on PostgreSQL, every connection of its pool
   * has ended, so its database can be dropped); it never rejects, so a caller may leave it unawaited.
   */
  close(): Promise<void> {
    return this.ctx.close(() => this.storage.close());
  }

  private async view(
    task: Task,
    warnings?: Map<string, TaskWarnings>,
    requires?: Map<string, string[]>,
  ): Promise<TaskView> {
    const w = warnings ?? (await this.warnings([task.id]));
    const r = requires === undefined ? await requiresStore.requiresOfTask(this.ctx, task.id) : requires.get(task.id);
    return { ...task, warnings: w.get(task.id) ?? null, requires: r ?? [] };
  }

  /**
   * A task a verb returned (claim, complete, reclaim, cancel) as get/list show it: its `warnings`
   * now and the labels it requires.
   */
  async taskView(task: Task): Promise<TaskView> {
    return await this.view(task);
  }

  /** The labels each of `ids` requires (ids that require none are absent). */
  async requiresOf(ids: readonly string[]): Promise<Map<string, string[]>> {
    return await requiresStore.requiresOf(this.ctx, ids);
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
  async createTask(input: CreateTaskInput, rules: WorkspaceRules = {}): Promise<TaskView> {
    const task = await createTask(this.ctx, input, { defaultWorkdir: this.defaultWorkdir }, rules);
    // A newly inserted task is judged from the row in hand (it has no history to read). An
    // idempotent hit may return an older task, judged in full from the database.
    if (input.idempotency_key) return await this.view(task);
    return {
      ...task,
      warnings: newTaskWarnings(task, this.diagnosticsPolicy(), this.ctx.now()),
      requires: normaliseRequires(input.requires),
    };
  }
  async getTask(id: string): Promise<TaskView | null> {
    const t = await this.ctx.getTask(id);
    return t ? await this.view(t) : null;
  }
  async requireTask(id: string): Promise<TaskView> {
    return await this.view(await this.ctx.requireTask(id));
  }
  async listTasks(filter: list.ListTasksFilter = {}): Promise<TaskView[]> {
    const tasks = await list.listTasks(this.ctx, filter);
    // One run of the engine for the whole list: confined to the ids for a short list; for a long
    // one the board's candidates (found through indexes) are cheaper than judging every row.
    const warnings = await this.warnings(tasks.length > 200 ? undefined : tasks.map((t) => t.id));
    const requires = await requiresStore.requiresOf(
      this.ctx,
      tasks.map((t) => t.id),
    );
    const out: TaskView[] = [];
    for (const t of tasks) out.push(await this.view(t, warnings, requires));
    return out;
  }
  async parentIds(id: string) {
    return await list.parentIds(this.ctx, id);
  }
  async childIds(id: string) {
    return await list.childIds(this.ctx, id);
  }
  async parentResults(id: string) {
    return await list.parentResults(this.ctx, id);
  }
  /**
   * `warnings` of these tasks (undefined = every task): the summary of each one's diagnostics, the
   * card badge of `board.get`; tasks without a diagnostic are absent (their `warnings` is null).
   */
  async warnings(ids?: readonly string[]): Promise<Map<string, TaskWarnings>> {
    return await taskWarnings(this.ctx, ids, this.diagnosticsPolicy(), this.onDiagnosticsRun);
  }

  // --- assignment and graph ---
  /** `extra` is merged into the `assigned` event payload (e.g. the dispatcher's `source`). */
  async assignTask(id: string, profile: string | null, extra: Record<string, unknown> = {}) {
    return await assign.assignTask(this.ctx, id, profile, extra);
  }
  async reassignTask(
    id: string,
    profile: string | null,
    opts: { reclaimFirst?: boolean; reason?: string | null } = {},
  ) {
    return await assign.reassignTask(this.ctx, id, profile, opts);
  }
  async linkTasks(parent: string, child: string) {
    return await graph.linkTasks(this.ctx, parent, child);
  }
  async unlinkTasks(parent: string, child: string) {
    return await graph.unlinkTasks(this.ctx, parent, child);
  }
  async recomputeReady() {
    return await graph.recomputeReady(this.ctx);
  }
  async promoteTask(id: string, opts: { actor?: string | null; reason?: string | null; dryRun?: boolean } = {}) {
    return await graph.promoteTask(this.ctx, id, opts);
  }

  // --- claims ---
  async claimTask(id: string, opts: claim.ClaimOptions = {}) {
    return await claim.claimTask(this.ctx, id, opts, this.claimTtl);
  }
  async heartbeatClaim(id: string, opts: claim.ClaimOptions & Fence = {}) {
    return await claim.heartbeatClaim(this.ctx, id, opts, this.claimTtl);
  }
  async heartbeatWorker(id: string, opts: { note?: string | null } & Fence = {}) {
    return await claim.heartbeatWorker(this.ctx, id, opts);
  }
  /**
   * A worker's heartbeat: extends its lease and records a `heartbeat` event, in one transaction;
   * with `usage`, the report of its run is written in that transaction too (usage.ts).
   */
  async heartbeat(
    id: string,
    opts: { note?: string | null; ttl_seconds?: number | null; usage?: usage.UsageInput | null } & Fence &
      UsagePricing = {},
  ) {
    const reported = opts.usage ? usage.normaliseUsage(opts.usage) : null;
    if (reported === null) return await claim.heartbeat(this.ctx, id, opts, this.claimTtl);
    return await this.ctx.tx(async () => {
      const beat = await claim.heartbeat(this.ctx, id, opts, this.claimTtl);
      const task = await getStoredTask(this.ctx, id);
      if (task) await usage.writeUsage(this.ctx, task, task.current_run_id, reported, "heartbeat", opts.prices);
      return beat;
    });
  }
  async recordSpawn(id: string, pid: number, runId: number) {
    return await claim.recordSpawn(this.ctx, id, pid, runId);
  }
  async setWorkspace(id: string, workspacePath: string, branchName?: string | null) {
    return await claim.setWorkspace(this.ctx, id, workspacePath, branchName);
  }
  /** One walk over the ready lane (a dispatcher tick); pass it to {@link claimNext} until it says no more. */
  readyLane(filter: ReadyLaneFilter = {}) {
    return new ReadyLane(filter);
  }
  /** Selects the lane's next eligible ready tasks and claims up to `limit` of them, in one transaction (claim-next.ts). */
  async claimNext(lane: ReadyLane, lease: claim.ClaimOptions = {}, limit = 1) {
    return await claimNext(this.ctx, lane, limit, {
      claim: async (id, head) => await claim.claimTask(this.ctx, id, lease, this.claimTtl, true, head),
      claimFirst: async (ids, commentsFrom) =>
        await claim.claimFirstReady(this.ctx, ids, lease, this.claimTtl, commentsFrom),
      assign: async (id, profile, extra) => await this.assignTask(id, profile, extra),
    });
  }
  // --- remote hosts (hosts.ts) ---
  /** A host (re)connects: its row upserted (first_seen_at kept), its runs renewed, the others answered as revoked. */
  async hostHello(input: hosts.HostHelloInput): Promise<hosts.HostRunsAnswer> {
    return await hosts.hostHello(this.ctx, input);
  }
  /** A host's heartbeat renews every named run still its own (one UPDATE); NOT_FOUND for an unknown host. */
  async hostHeartbeat(input: hosts.HostHeartbeatInput): Promise<hosts.HostRunsAnswer> {
    return await hosts.hostHeartbeat(this.ctx, input);
  }
  /**
   * A host claims up to `max` ready tasks: the claim walk of {@link claimNext} with the host's labels
   * and tenant, claim lock `<host_id>:<pid>`, lease `lease_seconds`. NOT_FOUND for an unknown host.
   */
  async claimForHost(input: ClaimForHostInput): Promise<ClaimNextResult> {
    if ((await hosts.getHost(this.ctx, input.host_id)) === null)
      throw notFound(`host ${input.host_id} is not known; send hosts.hello first`, { host_id: input.host_id });
    const lane = new ReadyLane({
      labels: input.labels,
      tenant: input.tenant,
      hostId: input.host_id,
      ...(input.isSpawnable ? { isSpawnable: input.isSpawnable } : {}),
      ...(input.defaultAssignee !== undefined ? { defaultAssignee: input.defaultAssignee } : {}),
      ...(input.maxPerProfile !== undefined ? { maxPerProfile: input.maxPerProfile } : {}),
    });
    const lease = { claimer: `${input.host_id}:${input.pid ?? 0}`, ttl_seconds: input.lease_seconds };
    return await this.claimNext(lane, lease, Math.max(0, Math.floor(input.max)));
  }
  /** The board's hosts (tenant null: all; else that tenant's and those serving every tenant), with `connected`. */
  async listHosts(tenant: string | null): Promise<hosts.HostView[]> {
    return await hosts.listHosts(this.ctx, tenant);
  }
  async getHost(id: string): Promise<hosts.HostView | null> {
    return await hosts.getHost(this.ctx, id);
  }

  /** Running tasks on this board. */
  async runningCount() {
    return await laneStore.runningCount(this.ctx);
  }
  /** Running tasks with a worker pid, by id (the dispatcher's status file). */
  async runningWorkers() {
    return await laneStore.runningWorkers(this.ctx);
  }
  /** Running tasks claimed by `lock` that never recorded a worker (its claimer died before spawning). */
  async unspawnedClaims(lock: string) {
    return await laneStore.unspawnedClaims(this.ctx, lock);
  }
  /** Of runs whose processes a host found, those that are no longer live work (termination.ts). */
  async endedRuns(runIds: readonly number[]) {
    return await termination.endedRuns(this.ctx, runIds);
  }
  /** Records on the task what was stopped of its ended run (`terminal_worker_reaped`). */
  async recordTreeStopped(taskId: string, runId: number, stopped: termination.StoppedTree, leaderPid: number | null) {
    return await termination.recordTreeStopped(this.ctx, taskId, runId, stopped, leaderPid);
  }

  // --- settling ---
  /** With `usage`, the worker's last report is written on the run this completion settled (usage.ts). */
  async completeTask(id: string, input: complete.CompleteInput & UsageReport = {}) {
    const reported = input.usage ? usage.normaliseUsage(input.usage) : null;
    const done = await complete.completeTask(this.ctx, id, input);
    await this.settledUsage(done, reported, "complete", input.prices);
    return done;
  }
  async editCompletedResult(
    id: string,
    input: { result: string; summary?: string | null; metadata?: Record<string, unknown> | null },
  ) {
    return await complete.editCompletedResult(this.ctx, id, input);
  }
  /** `comment_author` also stores the reason as a `BLOCKED:` comment, in the same transaction. */
  async blockTask(id: string, opts: block.ParkOptions & Fence & UsageReport = {}) {
    const reported = opts.usage ? usage.normaliseUsage(opts.usage) : null;
    const parked = await block.blockTask(this.ctx, id, opts);
    await this.settledUsage(parked, reported, "block", opts.prices);
    return parked;
  }
  /** `comment_author` also stores the reason as a `SCHEDULED:` comment, in the same transaction. */
  async scheduleTask(id: string, opts: block.ParkOptions & Fence = {}) {
    return await block.scheduleTask(this.ctx, id, opts);
  }
  /** `comment_author` also stores the reason as an `UNBLOCK:` comment, in the same transaction. */
  async unblockTask(id: string, opts: block.ParkOptions = {}) {
    return await block.unblockTask(this.ctx, id, opts);
  }
  // --- review lane (Hermes B; review.ts) ---
  /** The implementer hands the task to `reviewer` (status `review`); fenced like complete/block. */
  async requestReview(id: string, input: review.RequestReviewInput = {}) {
    return await review.requestReview(this.ctx, id, input);
  }
  /** The reviewer run sends the task back to its implementer; `comment_author` also keeps the reason as a comment. */
  async requestChanges(id: string, input: { reason: string; comment_author?: string | null } & Fence) {
    return await review.requestChanges(this.ctx, id, input);
  }
  /** A person takes a card out of review (ready/todo), the implementer restored. */
  async reopenReview(id: string, opts: { reason?: string | null; comment_author?: string | null } = {}) {
    return await review.reopenReview(this.ctx, id, opts);
  }
  /** A reviewer's claim of a `review` task (the dispatcher's review lane); null when not claimable. */
  async claimReviewTask(id: string, opts: claim.ClaimOptions = {}) {
    return await review.claimReviewTask(this.ctx, id, opts, this.claimTtl);
  }
  /** Unclaimed `review` tasks in dispatch order. */
  async reviewLane(limit = 100) {
    return await review.reviewLane(this.ctx, limit);
  }
  /** Whether the task's current run was claimed from review (a reviewer run). */
  async isReviewerRun(id: string) {
    return await review.isReviewerRun(this.ctx, id);
  }
  async archiveTask(id: string) {
    return await archive.archiveTask(this.ctx, id);
  }
  async deleteArchivedTask(id: string) {
    return await archive.deleteArchivedTask(this.ctx, id);
  }
  async deleteTask(id: string) {
    return await archive.deleteTask(this.ctx, id);
  }
  async updateTask(id: string, patch: Parameters<typeof edit.updateTask>[2]) {
    return await edit.updateTask(this.ctx, id, patch);
  }
  async setStatusDirect(id: string, status: string) {
    return await edit.setStatusDirect(this.ctx, id, status);
  }
  async moveTask(id: string, input: edit.MoveInput) {
    return await edit.moveTask(this.ctx, id, input);
  }
  /**
   * The drawer's and drag-drop's edit (`tasks.patch`) as one transaction: assignee, status, model
   * override, priority, then title/body/limits (patch.ts). Stop `terminate` once it returns.
   */
  async patchTask(id: string, patch: TaskPatch) {
    const out = await patchTask(this.ctx, id, patch);
    return { task: await this.view(out.task), terminate: out.terminate };
  }

  // --- activity ---
  async addComment(id: string, author: string, body: string, fence: Fence = {}) {
    return await activity.addComment(this.ctx, id, author, body, fence);
  }
  async listComments(id: string) {
    return await activity.listComments(this.ctx, id);
  }
  /** One page of a task's comments, oldest first, before comment `before` (the newest page when null). */
  async commentPage(id: string, opts: { before: number | null; limit: number }) {
    return await activity.commentPage(this.ctx, id, opts);
  }
  async commentTotal(id: string) {
    return await activity.commentTotal(this.ctx, id);
  }
  async listEvents(id: string, opts: { limit?: number } = {}) {
    return await activity.listEvents(this.ctx, id, opts);
  }
  async eventsAfter(cursor: number, filter: activity.EventStreamFilter = {}) {
    return await activity.eventsAfter(this.ctx, cursor, filter);
  }
  async latestEventId() {
    return await activity.latestEventId(this.ctx);
  }
  async listRuns(id: string, opts: { include_active?: boolean } = {}) {
    return await activity.listRuns(this.ctx, id, opts);
  }
  async getRun(runId: number) {
    return await activity.getRun(this.ctx, runId);
  }
  async activeRun(id: string) {
    return await activity.activeRun(this.ctx, id);
  }
  async latestRun(id: string) {
    return await activity.latestRun(this.ctx, id);
  }
  /**
   * The task's newest ended run other than `exceptRun` (the attempt being started), or null: what a
   * dispatcher hands a retry (KANBAN_PREVIOUS_RUN_*, `{resume}`).
   */
  async previousRun(id: string, exceptRun: number | null = null): Promise<PreviousRun | null> {
    return await previousRun(this.ctx, id, exceptRun);
  }
  async latestSummary(id: string) {
    return await activity.latestSummary(this.ctx, id);
  }
  async latestSummaries(ids?: string[]) {
    return await activity.latestSummaries(this.ctx, ids);
  }

  // --- the API's reads (SQL in store/sqlite/*; the API holds no connection) ---
  /**
   * The whole board view: columns, card extras, tenants, assignees and the attention rows, with the
   * diagnostics engine run once (store/sqlite/board-reads.ts), judged by the board's failure limit;
   * `knownProfiles` defaults to the board's policy.
   */
  async boardView(
    slug: string,
    filter: boardReads.BoardFilter,
    opts: Omit<boardReads.BoardViewOptions, "failureLimit">,
  ) {
    return await boardReads.boardView(this.ctx, slug, filter, { ...opts, ...this.judged(opts) });
  }
  /**
   * What changed in a board view after events touched `ids`: those cards (and their linked
   * neighbours) as the view renders them, the ones it no longer shows, and the view's counts and
   * attention rows (store/sqlite/board-delta.ts).
   */
  async boardDelta(
    filter: boardReads.BoardFilter,
    ids: readonly string[],
    opts: Omit<boardDeltas.BoardDeltaOptions, "failureLimit">,
  ) {
    return await boardDeltas.boardDelta(this.ctx, filter, ids, { ...opts, ...this.judged(opts) });
  }
  /** One page of one board column, continuing from a cursor (diagnostics confined to the page). */
  async columnPage(
    column: string,
    filter: boardReads.BoardFilter,
    opts: Omit<boardReads.ColumnPageOptions, "failureLimit">,
  ) {
    return await boardReads.columnPage(this.ctx, column, filter, { ...opts, ...this.judged(opts) });
  }
  /** Adds the card extras (age, summary, counts, progress, diagnostics) to task DTOs, in place. */
  async decorateCards(tasks: boardReads.TaskDto[], opts: Omit<boardReads.DecorateOptions, "failureLimit">) {
    return await boardReads.decorate(this.ctx, tasks, { ...opts, ...this.judged(opts) });
  }
  async diagnosticsByTask(taskId?: string, knownProfiles?: readonly string[] | null) {
    const p = this.judged({ knownProfiles });
    return await boardReads.diagnosticsByTask(this.ctx, p.failureLimit, taskId, p.knownProfiles, p.onDiagnosticsRun);
  }
  /** Every diagnostic of the board (or one task), worst first. */
  async diagnostics(opts: Omit<BoardDiagnosticsOptions, "failureLimit"> = {}) {
    const p = this.judged(opts);
    return await boardDiagnostics(this.ctx, {
      ...opts,
      failureLimit: p.failureLimit,
      knownProfiles: p.knownProfiles,
      onRun: p.onDiagnosticsRun,
    });
  }
  /** One keyset page of `tasks.list` (store/sqlite/task-pages.ts), with each task's `warnings`. */
  async taskPage(filter: Parameters<typeof taskPages.taskPage>[1], opts: Parameters<typeof taskPages.taskPage>[2]) {
    return await taskPages.taskPage(this.ctx, filter, opts, async (ids) => await this.warnings(ids));
  }
  /** Edges touching `ids` whose both ends lie in `scope` (a tenant; null = every tenant). */
  async linkEdges(ids: string[], scope: string | null = null) {
    return await links.linkEdges(this.ctx, ids, scope);
  }
  /** A task's parents within `scope` (a tenant; null = every tenant). */
  async linkedParents(id: string, scope: string | null = null) {
    return await links.linkedParents(this.ctx, id, scope);
  }
  /** A task's children within `scope` (a tenant; null = every tenant). */
  async linkedChildren(id: string, scope: string | null = null) {
    return await links.linkedChildren(this.ctx, id, scope);
  }
  /** The markdown a worker reads before it starts. */
  async workerContext(id: string) {
    return await buildWorkerContext(this.ctx, id);
  }
  async activeWorkers(tenant: string | null) {
    return await workers.activeWorkers(this.ctx, tenant);
  }
  async statsFor(tenant: string | null) {
    return await workers.statsFor(this.ctx, tenant);
  }
  /**
   * Brings the flow ledger closer to the newest event, at most `maxSteps` transactions of
   * CATCH_UP_LIMITS each, so that flow reads find it current (the dispatcher calls this every tick);
   * returns whether it is current. A flow read finishes whatever is left itself.
   */
  async advanceFlowLedger(maxSteps: number): Promise<boolean> {
    return await catchUpFlowLedger(this.ctx, CATCH_UP_LIMITS, maxSteps);
  }

  /** The cards behind one of flow's blocked reasons (flow-blocked.ts). */
  async flowBlockedCards(opts: FlowOptions & { reason: string; limit?: number }) {
    return await flowBlockedCards(this.ctx, opts);
  }

  /** Throughput, cycle times, the ready queue, blocked time and rework over a window (flow.ts). */
  async flowStats(opts: FlowOptions = {}) {
    return await flowStats(this.ctx, opts);
  }
  async assigneesFor(profiles: string[], tenant: string | null) {
    return await workers.assigneesFor(this.ctx, profiles, tenant);
  }
  async statusCounts(tenant: string | null) {
    return await workers.statusCounts(this.ctx, tenant);
  }
  async tenantTaskIds(tenant: string) {
    return await tenants.tenantTaskIds(this.ctx, tenant);
  }
  async createdBySince(id: string, profile: string, since: number, tenant: string | null) {
    return await tenants.createdBySince(this.ctx, id, profile, since, tenant);
  }
  async archivedScratchTasks() {
    return await tenants.archivedScratchTasks(this.ctx);
  }
  async liveEventRows(afterId: number, limit: number) {
    return await liveEvents.liveEventRows(this.ctx, afterId, limit);
  }
  /** Deletes events of finished tasks older than `retentionSeconds`; returns how many. */
  async gcEvents(retentionSeconds: number) {
    return await gcEvents(this.ctx, retentionSeconds);
  }

  // --- verbs that span a caller's step ---
  /**
   * Claims `id` and hands the claimed task (or null: not claimable) to `then`, all in one
   * transaction: whatever `then` throws (a workspace that cannot be made) undoes the claim.
   */
  async claimWithWorkspace<R>(id: string, opts: claim.ClaimOptions, then: (claimed: Task | null) => R): Promise<R> {
    return await this.ctx.tx(async () => await then(await claim.claimTask(this.ctx, id, opts, this.claimTtl)));
  }
  /**
   * Gives back a claim whose workspace could not be made (the API's `tasks.claim` claims, makes the
   * workspace outside any transaction, then records it): the task is `ready` again, the claim's run
   * closes as `reclaimed` with `reason`, a `reclaimed` event says why. No failure is booked and the
   * breaker's count is left as it was: the task did nothing wrong. Fenced on the claim's run: false
   * (nothing written) when that run is no longer the task's current one.
   */
  async releaseUnstartedClaim(id: string, runId: number, reason: string): Promise<boolean> {
    return await this.ctx.tx(async () => {
      const before = await getStoredTask(this.ctx, id);
      if (before?.status !== "running" || before.current_run_id !== runId) return false;
      const moved = await swapStatus(this.ctx, "reclaim", id, {
        to: "ready",
        from: "running",
        set: CLEAR_CLAIM,
        where: "current_run_id IS ?",
        whereArgs: [runId],
      });
      if (moved !== 1) return false;
      const closed = await endRun(this.ctx, id, { status: "reclaimed", outcome: "reclaimed", error: reason });
      await appendEvent(this.ctx, id, "reclaimed", { manual: false, reason, prev_lock: before.claim_lock }, closed);
      return true;
    });
  }
  /** Runs several verbs as one transaction: a throw anywhere keeps none of their changes. */
  async atomically<T>(fn: () => Promise<T>): Promise<T> {
    return await this.ctx.tx(fn);
  }

  // --- recovery and the breaker ---
  async releaseStaleClaims(opts: recovery.RecoveryOptions = {}) {
    return await recovery.releaseStaleClaims(this.ctx, { claimTtlSeconds: this.claimTtl, ...opts });
  }
  async detectCrashedWorkers(opts: Parameters<typeof recovery.detectCrashedWorkers>[1] = {}) {
    return await recovery.detectCrashedWorkers(this.ctx, opts);
  }
  async enforceMaxRuntime(opts: recovery.MaxRuntimeOptions = {}) {
    return await recovery.enforceMaxRuntime(this.ctx, opts);
  }
  /** Puts breaker-blocked cards back in play after their revive cooldown, a bounded number of times (auto-revive.ts). */
  async reviveBrokenCards(opts: Partial<AutoReviveConfig> = {}) {
    return await reviveBrokenCards(this.ctx, opts);
  }
  async detectStaleRunning(staleTimeoutSeconds: number) {
    return await recovery.detectStaleRunning(this.ctx, staleTimeoutSeconds);
  }
  async reclaimTask(id: string, opts: { reason?: string | null } = {}) {
    return await recovery.reclaimTask(this.ctx, id, opts);
  }
  /**
   * Cancels a task that has not finished (cancel.ts): a running one is reclaimed (its run ends
   * `reclaimed`) and every one is parked `blocked` with the reason `cancelled: <reason>`, in one
   * transaction. Stop `terminate` once it returns (a host-local worker; a remote host stops its own).
   */
  async cancelTask(id: string, opts: CancelOptions): Promise<CancelResult> {
    return await cancelTask(this.ctx, id, opts);
  }
  /**
   * A remote host's worker exited without a terminal call (remote-exit.ts): the crash path while the
   * run is still current (`crashed`), else nothing (`ignored`). NOT_FOUND for an unknown run.
   */
  async recordRemoteExit(runId: number, exit: RemoteExit): Promise<RemoteExitResult> {
    return await recordRemoteExit(this.ctx, runId, exit);
  }
  /** Ends a live run by reclaiming its task, only while it is the task's current run (recovery.ts). */
  async terminateRun(runId: number, opts: { reason?: string | null } = {}) {
    return await recovery.terminateRun(this.ctx, runId, opts);
  }
  /** Why the dispatcher should not spawn this ready task again right now (null = go ahead). */
  async respawnGuard(id: string) {
    return await respawnGuard(this.ctx, id);
  }
  /** Why a task is (not) moving and what to do next (motion/); NOT_FOUND for an unknown id. */
  async explainMotion(id: string, facts: HostFacts = {}, scope: MotionScope = {}): Promise<Motion> {
    const motion = (await motionsByIds(this.ctx, [id], facts, scope)).get(id);
    if (!motion) throw notFound(`task ${id} not found`, { task_id: id });
    return motion;
  }
  /** The motion of each id that names a task, in a fixed number of statements (unknown ids are absent). */
  async explainMotions(ids: readonly string[], facts: HostFacts = {}, scope: MotionScope = {}) {
    return await motionsByIds(this.ctx, ids, facts, scope);
  }
  /** Records that the dispatcher held a task back (event `respawn_guarded`). */
  async recordRespawnGuarded(id: string, reason: string) {
    await this.ctx.tx(async () => await this.ctx.appendEvent(id, "respawn_guarded", { reason }));
  }
  // --- incidents (incident folding, issue 17; incidents.ts) ---
  /** The incident policy (config `kanban.incident_*`), asked each time it is needed; default {@link incidents.DEFAULT_INCIDENT_POLICY}. */
  setIncidentPolicy(policy: () => Partial<incidents.IncidentPolicy>): void {
    incidents.setIncidentPolicy(this.ctx, policy);
  }
  /** Newest first; `open` true: open ones only. `tenant` null: every incident; else that tenant's. */
  async listIncidents(opts: { open?: boolean; tenant?: string | null } = {}) {
    return await incidents.listIncidents(this.ctx, opts);
  }
  async getIncident(id: number) {
    return await incidents.getIncident(this.ctx, id);
  }
  /** A person resumes the paused scope (`closed_by: person:<by>`); NOT_FOUND, WRONG_STATE once closed. */
  async resumeIncident(id: number, opts: { by: string; tenant?: string | null }) {
    return await incidents.resumeIncident(this.ctx, id, opts);
  }
  async recordTaskFailure(id: string, input: FailureInput) {
    return await recordTaskFailure(this.ctx, id, input);
  }

  // --- notify subscriptions ---
  async addNotifySub(input: notify.NotifySubInput) {
    return await notify.addNotifySub(this.ctx, input);
  }
  async listNotifySubs(taskId?: string | null) {
    return await notify.listNotifySubs(this.ctx, taskId);
  }
  async removeNotifySub(key: notify.NotifySubKey) {
    return await notify.removeNotifySub(this.ctx, key);
  }
  // --- notify rules (board and assignee subscriptions; notify-rules.ts) ---
  async addNotifyRule(input: notifyRules.NotifyRuleInput) {
    return await notifyRules.addNotifyRule(this.ctx, input);
  }
  /** tenant null: every rule; else the tenant's own. */
  async listNotifyRules(tenant: string | null = null) {
    return await notifyRules.listNotifyRules(this.ctx, tenant);
  }
  async getNotifyRule(id: number, tenant: string | null = null) {
    return await notifyRules.getNotifyRule(this.ctx, id, tenant);
  }
  async removeNotifyRule(id: number, tenant: string | null = null) {
    return await notifyRules.removeNotifyRule(this.ctx, id, tenant);
  }
  async unseenEventsForSub(key: notify.NotifySubKey, kinds?: string[]) {
    return await notify.unseenEventsForSub(this.ctx, key, kinds);
  }
  async claimUnseenEventsForSub(key: notify.NotifySubKey, kinds?: string[]) {
    return await notify.claimUnseenEventsForSub(this.ctx, key, kinds);
  }
  async rewindNotifyCursor(key: notify.NotifySubKey, claimed: number, old: number) {
    return await notify.rewindNotifyCursor(this.ctx, key, claimed, old);
  }
  async advanceNotifyCursor(key: notify.NotifySubKey, cursor: number) {
    return await notify.advanceNotifyCursor(this.ctx, key, cursor);
  }
  // --- notify delivery log (notify-deliveries.ts) ---
  async recordNotifyDelivery(attempt: notifyDeliveries.DeliveryAttempt) {
    return await notifyDeliveries.recordNotifyDelivery(this.ctx, attempt);
  }
  async listNotifyDeliveries(query: notifyDeliveries.DeliveryQuery = {}) {
    return await notifyDeliveries.listNotifyDeliveries(this.ctx, query);
  }
  async notifyFailureStreak(key: notify.NotifySubKey) {
    return await notifyDeliveries.notifyFailureStreak(this.ctx, key);
  }
  async gcNotifyDeliveries(retentionSeconds?: number) {
    return await notifyDeliveries.gcNotifyDeliveries(this.ctx, retentionSeconds);
  }
  async dropNotifySub(key: notify.NotifySubKey, why: { failures: number; last_error: string | null }) {
    return await notifyDeliveries.dropNotifySub(this.ctx, key, why);
  }
  // --- usage and cost (issue 21; usage.ts) ---
  /** A worker's usage report on its own active run (fenced; WRONG_STATE without one); null when empty. */
  async reportUsage(id: string, input: usage.UsageInput, opts: usage.ReportUsageOptions = {}) {
    return await usage.reportUsage(this.ctx, id, input, opts);
  }
  /** The roll-up by run, task, profile, model, tenant, day or board; `task_id` takes its descendants in. */
  async usageSummary(q: usage.UsageSummaryQuery) {
    return await usage.usageSummary(this.ctx, q);
  }
  /** Every usage report of one task, oldest first. */
  async usageOfTask(id: string) {
    return await usage.usageOfTask(this.ctx, id);
  }
  // --- budgets (issue 21; budgets.ts). `tenant`: whose budget (null: the operator's). ---
  /** Sets or creates a budget; cards its new limit lets go on are resumed. */
  async setBudget(input: budgets.SetBudgetInput, tenant: string | null = null) {
    return await budgets.setBudget(this.ctx, input, tenant);
  }
  /** The budgets of `tenant` (null: every budget), with this period's spend. */
  async listBudgets(tenant: string | null = null) {
    return await budgets.listBudgets(this.ctx, tenant);
  }
  /** "Allow N more" on one budget for its current period; the cards it paused resume. */
  async allowBudget(input: budgets.AllowBudgetInput, tenant: string | null = null) {
    return await budgets.allowBudget(this.ctx, input, tenant);
  }
  // --- saved views (issue 19; views.ts). `tenant`: whose views (null: the operator's). ---
  /** The owner's saved views, by name. */
  async listViews(tenant: string | null = null) {
    return await views.listViews(this.ctx, tenant ?? "");
  }
  /** Saves (or replaces) a view under its name. */
  async saveView(input: Parameters<typeof views.saveView>[2], tenant: string | null = null) {
    return await views.saveView(this.ctx, tenant ?? "", input);
  }
  /** Deletes a saved view (NOT_FOUND when the owner has none of that name). */
  async deleteView(name: string, tenant: string | null = null) {
    await views.deleteView(this.ctx, tenant ?? "", name);
  }
  // --- completion gates (issue 20; gates.ts). `tenant`: a tenant's call (its own cards only). ---
  /** Puts a gate spec on a card, a profile or the board (`key` `*`); on a card an empty spec opts it out. */
  async setGates(scope: gates.GateScope, key: string, spec: unknown, tenant: string | null = null) {
    return await gates.setGates(this.ctx, scope, key, spec, { tenant });
  }
  /** Removes a gate spec; false when there was none. */
  async clearGates(scope: gates.GateScope, key: string, tenant: string | null = null) {
    return await gates.clearGates(this.ctx, scope, key, { tenant });
  }
  /** Every gate spec (a tenant: those on its own cards). */
  async listGates(tenant: string | null = null) {
    return await gates.listGates(this.ctx, { tenant });
  }
  /** A card's gates, its round under test and the evidence of its latest rounds. */
  async cardGates(id: string, opts: { rounds?: number } = {}) {
    return await gateEvidence.cardGates(this.ctx, id, opts);
  }
  /** Rounds whose acceptance commands wait for a runner on `host_id` (null: this machine). */
  async pendingCommandRounds(opts: { host_id?: string | null; limit?: number } = {}) {
    return await gateCommands.pendingCommandRounds(this.ctx, opts);
  }
  /** Takes a round's commands for one runner for a lease. */
  async claimCommandRound(id: string, round: number, opts: { claimer: string; lease_seconds: number }) {
    return await gateCommands.claimCommandRound(this.ctx, id, round, opts);
  }
  /** Records a round's command results and change; the card moves on or goes back to its implementer. */
  async reportCommandRound(id: string, round: number, input: Parameters<typeof gateCommands.reportCommandRound>[3]) {
    return await gateCommands.reportCommandRound(this.ctx, id, round, input);
  }
  /**
   * The usage a terminal call carried, written on the run it settled, after the settling commit:
   * complete and block keep their own transactions (a stale call's late report must survive its
   * refusal), and a replayed re-send's usage was written when it first arrived, so it adds nothing.
   */
  private async settledUsage(
    settled: { task: Task; run_id: number | null; replayed?: true },
    reported: usage.NormalisedUsage | null,
    via: usage.UsageVia,
    prices: usage.PriceTable | null | undefined,
  ): Promise<void> {
    if (reported === null || settled.replayed) return;
    await this.ctx.tx(
      async () => await usage.writeUsage(this.ctx, settled.task, settled.run_id, reported, via, prices),
    );
  }
}

/** The price table a verb that may carry usage prices it with (config.json's `prices`). */
export interface UsagePricing {
  prices?: usage.PriceTable | null;
}

/** An optional usage report on a worker-side verb, and the prices for it. */
export interface UsageReport extends UsagePricing {
  usage?: usage.UsageInput | null;
}

/**
 * Opens a board for the whole lifecycle: `openBoard({ board })` for a board under KANBAN_HOME,
 * `openBoard({ path })` for a file. The database is created, checked and upgraded on first open.
 */
/**
 * Where an open board's rows live: its engine session, a display path (the SQLite file, or the
 * PostgreSQL board as `postgres://host/db#schema` without credentials) and how to let go of its
 * connections.
 */
export interface BoardStorage {
  readonly path: string;
  readonly session: SqlSessionHandle;
  close(): void | Promise<void>;
}

function sqliteStorage(db: KanbanDatabase, clock: Clock): BoardStorage {
  return { path: db.path, session: new SqliteSession(db.sqlite, clock, db.reader()), close: () => db.close() };
}

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
    return new Board(sqliteStorage(openDatabase({ ...dbOpts, path: opts.path }), ports.clock), {
      ...ports,
      slug: null,
      defaultWorkdir: opts.defaultWorkdir,
    });
  }
  const loc = opts.location ?? boardLocationFromEnv(opts.env ?? {});
  const slug = opts.board ? normaliseSlug(opts.board) : currentBoard(loc);
  const meta = readBoardMetadata(loc, slug);
  return new Board(sqliteStorage(openBoardDatabase(loc, slug, dbOpts), ports.clock), {
    ...ports,
    slug,
    defaultWorkdir: opts.defaultWorkdir ?? meta.default_workdir,
  });
}
