import type { Board, TaskView } from "./board.ts";
import { invalid, KernelError, notFound } from "./errors.ts";
import { DELIVERY_LOG_MAX_LIMIT } from "./notify-deliveries.ts";
import type { HostFacts, Motion } from "./motion/types.ts";
import {
  DETAIL_COMMENTS,
  DETAIL_EVENTS,
  type LinkedTask,
  type TaskDetail,
  type TaskDetailOptions,
} from "./task-detail.ts";
import type { Task, TaskEvent } from "./types.ts";

/** How a tenant's refusal names a parent of another tenant (the operator may link across tenants). */
const HIDDEN_PARENT = "a parent outside this scope";

/** Whose tasks a caller may see: one tenant's, or (null) the whole board, as the operator does. */
export interface BoardScope {
  tenant: string | null;
}

/** The scope's tenant after trimming: a blank tenant is no tenant (the operator), never a tenant named "". */
function scopeTenant(tenant: string | null | undefined): string | null {
  return tenant?.trim() ? tenant.trim() : null;
}

/**
 * A board seen through a caller's scope. A tenant-scoped board behaves as if the other tenants'
 * tasks did not exist: `getTask` answers null for them, `requireTask` and every verb that names
 * one throw the same NOT_FOUND as an unknown id (so a caller cannot even learn which ids exist
 * elsewhere), and reads (task pages, the board view, stats, workers, assignees, events,
 * diagnostics, subscriptions) are confined to the tenant whatever filter the caller passes.
 * The operator's scope (tenant null) sees and touches everything, and may narrow a read to a
 * tenant with the read's own `tenant` filter.
 *
 * Verbs are the Board's own, checked first; the checks are here, once, instead of before each
 * call in each caller, so a forgotten check cannot leak another tenant's task.
 */
export class ScopedBoard {
  readonly tenant: string | null;
  /** Ids already found visible in this scope (a task's tenant never changes), so a verb re-checks nothing. */
  private readonly visibleIds = new Set<string>();

  constructor(
    // Private: a public Board would let any holder of the scoped board step around the scope.
    private readonly board: Board,
    scope: BoardScope,
  ) {
    this.tenant = scopeTenant(scope.tenant);
  }

  get slug(): string | null {
    return this.board.slug;
  }
  now(): number {
    return this.board.now();
  }

  /** Whether a task lies inside this scope. */
  sees(task: { tenant: string | null }): boolean {
    return this.tenant === null || task.tenant === this.tenant;
  }

  /**
   * The tenant a read is confined to: this scope's, whatever the caller asked for; for the
   * operator, the tenant it asked for (blank = every tenant).
   */
  readTenant(requested?: string | null): string | null {
    return this.tenant ?? scopeTenant(requested);
  }

  // --- one task ---

  /** The task, or null when it does not exist or lies outside the scope. */
  async getTask(id: string): Promise<TaskView | null> {
    const task = await this.board.getTask(id);
    if (task === null || !this.sees(task)) return null;
    this.visibleIds.add(id);
    return task;
  }

  /** The task, or NOT_FOUND worded exactly as for an unknown id. */
  async requireTask(id: string): Promise<TaskView> {
    const task = await this.getTask(id);
    if (task === null) throw notFound(`task ${id} not found`, { task_id: id });
    return task;
  }

  /**
   * Events as this scope may read them: a `linked`/`unlinked` event names both ends, and the operator
   * may link across tenants, so for a tenant the end it cannot see becomes null (the event stays, so
   * cursors and the history's order are unchanged, but no foreign id leaves the scope).
   */
  async redactLinks<E extends TaskEvent>(events: E[]): Promise<E[]> {
    if (this.tenant === null) return events;
    const out: E[] = [];
    for (const e of events) {
      if ((e.kind !== "linked" && e.kind !== "unlinked") || e.payload === null) {
        out.push(e);
        continue;
      }
      const payload = { ...e.payload };
      for (const end of ["parent", "child"] as const) {
        const id = payload[end];
        if (typeof id === "string" && (await this.getTask(id)) === null) payload[end] = null;
      }
      out.push({ ...e, payload });
    }
    return out;
  }

  /**
   * Runs a verb whose refusal may name the task's unfinished parents (`details.parents`, as moving to
   * ready does). The operator may link across tenants, so for a tenant a parent outside the scope is
   * named only as such: neither its id nor its title leaves the scope.
   */
  private async hidingForeignParents<T>(verb: () => Promise<T>): Promise<T> {
    try {
      return await verb();
    } catch (err) {
      if (this.tenant === null || !(err instanceof KernelError) || !Array.isArray(err.details.parents)) throw err;
      const parents = err.details.parents as { id: string; title: string; status: string }[];
      const shown: typeof parents = [];
      for (const p of parents) if ((await this.getTask(p.id)) !== null) shown.push(p);
      if (shown.length === parents.length) throw err;
      const named = [...shown.map((p) => `'${p.title}' (${p.id}, status=${p.status})`), HIDDEN_PARENT];
      const cut = err.message.indexOf(" — ");
      const head = cut >= 0 ? err.message.slice(0, cut) : "refused: blocked by parent(s) not done";
      throw new KernelError(err.code, `${head} — ${named.join(", ")}`, { ...err.details, parents: shown });
    }
  }

  /** Refuses (NOT_FOUND) an id outside the scope; the operator's scope leaves it to the verb. */
  private async check(id: string): Promise<void> {
    if (this.tenant === null || this.visibleIds.has(id)) return;
    await this.requireTask(id);
  }

  /**
   * Everything the task drawer shows about one task of the scope (NOT_FOUND for any other): the
   * task with its card extras, comments, the newest events, runs, links and child results within
   * the scope, the worker context and the diagnostics. Pass the task when it was just read through
   * this scope (saves a second read).
   */
  async taskDetail(task: string | TaskView, opts: TaskDetailOptions = {}): Promise<TaskDetail> {
    const found = typeof task === "string" ? await this.requireTask(task) : task;
    if (!this.sees(found)) throw notFound(`task ${found.id} not found`, { task_id: found.id });
    const id = found.id;
    const board = this.board;
    const diagnostics = await board.diagnosticsByTask(id, opts.knownProfiles);
    const [card] = await board.decorateCards([{ ...found, skills: found.skills ?? [] }], {
      now: board.now(),
      summaryChars: null,
      diagnostics,
      scopeTenant: this.tenant,
    });
    if (!card) throw new Error("unreachable: decorate returns one card per task");
    const linked = ({ id, title, status, assignee }: LinkedTask): LinkedTask => ({ id, title, status, assignee });
    const parents = await this.linkedParents(id);
    const children = await this.linkedChildren(id);
    const summaries = await board.latestSummaries(children.map((c) => c.id));
    return {
      task: card,
      ...(await this.drawerComments(id)),
      events: await this.listEvents(id, { limit: DETAIL_EVENTS }),
      runs: await board.listRuns(id),
      links: { parents: parents.map(linked), children: children.map(linked) },
      child_results: children.map((c) => ({
        id: c.id,
        title: c.title,
        status: c.status,
        latest_summary: summaries.get(c.id) ?? null,
        result: c.result,
      })),
      worker_context: await board.workerContext(id),
      diagnostics: card.diagnostics,
    };
  }

  /** The drawer's comments: the newest page, and how many there are in all (it pages back through comments.list). */
  private async drawerComments(id: string) {
    const page = await this.board.commentPage(id, { before: null, limit: DETAIL_COMMENTS });
    return {
      comments: page.comments,
      comments_total: page.more ? await this.board.commentTotal(id) : page.comments.length,
    };
  }

  // --- reads confined to the scope ---

  /** One keyset page of tasks; the `tenant` filter is the scope's for a tenant. */
  async taskPage(filter: Parameters<Board["taskPage"]>[0], opts: Parameters<Board["taskPage"]>[1]) {
    return await this.board.taskPage({ ...filter, tenant: this.readTenant(filter.tenant) }, opts);
  }
  /** Parent/child edges touching `ids` whose other end is in the scope too (an operator's cross-tenant link stays hidden). */
  async linkEdges(ids: string[]) {
    return await this.board.linkEdges(ids, this.tenant);
  }
  /** The board view; a tenant sees only its cards and its own tenant in the filter lists. */
  async boardView(
    slug: string,
    filter: Parameters<Board["boardView"]>[1],
    opts: Omit<Parameters<Board["boardView"]>[2], "scopeTenant">,
  ) {
    return await this.board.boardView(
      slug,
      { ...filter, tenant: this.readTenant(filter.tenant) },
      { ...opts, scopeTenant: this.tenant },
    );
  }
  /** A view's delta; a tenant's names only its own cards (the filter is confined as in boardView). */
  async boardDelta(
    filter: Parameters<Board["boardDelta"]>[0],
    ids: readonly string[],
    opts: Omit<Parameters<Board["boardDelta"]>[2], "scopeTenant">,
  ) {
    return await this.board.boardDelta({ ...filter, tenant: this.readTenant(filter.tenant) }, ids, {
      ...opts,
      scopeTenant: this.tenant,
    });
  }
  async columnPage(
    column: string,
    filter: Parameters<Board["columnPage"]>[1],
    opts: Parameters<Board["columnPage"]>[2],
  ) {
    return await this.board.columnPage(
      column,
      { ...filter, tenant: this.readTenant(filter.tenant) },
      { ...opts, scopeTenant: this.tenant },
    );
  }
  async activeWorkers() {
    return await this.board.activeWorkers(this.tenant);
  }
  async statsFor() {
    return await this.board.statsFor(this.tenant);
  }
  async flowStats(opts: { since?: number | null; until?: number | null } = {}) {
    return await this.board.flowStats({ ...opts, tenant: this.tenant });
  }
  async flowBlockedCards(opts: { reason: string; since?: number | null; until?: number | null; limit?: number }) {
    return await this.board.flowBlockedCards({ ...opts, tenant: this.tenant });
  }
  async assigneesFor(profiles: string[]) {
    return await this.board.assigneesFor(profiles, this.tenant);
  }
  async statusCounts() {
    return await this.board.statusCounts(this.tenant);
  }
  async latestEventId() {
    return await this.board.latestEventId();
  }
  /** Events after a cursor; a `task_id` outside the scope is NOT_FOUND, and a tenant reads only its own. */
  async eventsAfter(cursor: number, filter: Parameters<Board["eventsAfter"]>[1] = {}) {
    if (filter.task_id) await this.check(filter.task_id);
    return await this.redactLinks(
      await this.board.eventsAfter(cursor, { ...filter, tenant: this.readTenant(filter.tenant) }),
    );
  }
  /** Diagnostics of the board (or one visible task), worst first, confined to the tenant. */
  async diagnostics(opts: Parameters<Board["diagnostics"]>[0] = {}) {
    if (opts.taskId) await this.check(opts.taskId);
    const list = await this.board.diagnostics(opts);
    if (this.tenant === null) return list;
    const own = await this.board.tenantTaskIds(this.tenant);
    return list.filter((d) => own.has(d.task_id));
  }
  /**
   * Why a task of the scope is (not) moving (NOT_FOUND for any other, worded as an unknown id); a
   * tenant's answer counts a parent of another tenant without naming it.
   */
  async explainMotion(id: string, facts: HostFacts = {}): Promise<Motion> {
    await this.requireTask(id);
    return await this.board.explainMotion(id, facts, { tenant: this.tenant });
  }
  /** Subscriptions of one visible task, or of every task in the scope. */
  async listNotifySubs(taskId?: string | null) {
    if (taskId) await this.check(taskId);
    const subs = await this.board.listNotifySubs(taskId ?? null);
    if (this.tenant === null || taskId) return subs;
    const own = await this.board.tenantTaskIds(this.tenant);
    return subs.filter((s) => own.has(s.task_id));
  }
  /** A run of a task in the scope; any other is NOT_FOUND like an unknown run. */
  async getRun(runId: number) {
    const run = await this.board.getRun(runId);
    if (this.tenant !== null && (await this.getTask(run.task_id)) === null)
      throw notFound(`run ${runId} not found`, { run_id: runId });
    return run;
  }
  /** A visible task's parents and children, without the ones outside the scope. */
  async linkedParents(id: string) {
    await this.check(id);
    return await this.board.linkedParents(id, this.tenant);
  }
  async linkedChildren(id: string) {
    await this.check(id);
    return await this.board.linkedChildren(id, this.tenant);
  }
  async listComments(id: string) {
    await this.check(id);
    return await this.board.listComments(id);
  }
  async commentPage(id: string, opts: Parameters<Board["commentPage"]>[1]) {
    await this.check(id);
    return await this.board.commentPage(id, opts);
  }
  async listEvents(id: string, opts?: Parameters<Board["listEvents"]>[1]) {
    await this.check(id);
    return await this.redactLinks(await this.board.listEvents(id, opts));
  }
  async listRuns(id: string, opts?: Parameters<Board["listRuns"]>[1]) {
    await this.check(id);
    return await this.board.listRuns(id, opts);
  }
  async workerContext(id: string) {
    await this.check(id);
    return await this.board.workerContext(id);
  }
  async warnings(ids: string[]) {
    for (const id of ids) await this.check(id);
    return await this.board.warnings(ids);
  }
  /** A task a verb returned, as get/list show it (`warnings` now, `requires`); NOT_FOUND outside the scope. */
  async taskView(task: Task): Promise<TaskView> {
    if (!this.sees(task)) throw notFound(`task ${task.id} not found`, { task_id: task.id });
    return await this.board.taskView(task);
  }
  /** The labels each of `ids` requires (ids that require none are absent); every id must be in the scope. */
  async requiresOf(ids: string[]) {
    for (const id of ids) await this.check(id);
    return await this.board.requiresOf(ids);
  }

  // --- writes: the Board's verbs, on tasks in the scope ---

  /**
   * Creates a task in this scope's tenant (a tenant cannot create elsewhere, whatever it asks);
   * a parent outside the scope is refused exactly like an unknown parent.
   */
  async createTask(input: Parameters<Board["createTask"]>[0], rules?: Parameters<Board["createTask"]>[1]) {
    if (this.tenant !== null) {
      const hidden: string[] = [];
      for (const p of input.parents ?? []) {
        const parent = await this.board.getTask(p);
        if (parent !== null && !this.sees(parent)) hidden.push(p);
      }
      if (hidden.length > 0) throw invalid(`unknown parent task(s): ${hidden.join(", ")}`, { missing: hidden });
    }
    return await this.board.createTask({ ...input, tenant: this.tenant ?? input.tenant }, rules);
  }
  /** Runs several verbs as one transaction: a throw anywhere keeps none of their changes. */
  async atomically<T>(fn: () => Promise<T>): Promise<T> {
    return await this.board.atomically(fn);
  }
  async linkTasks(parent: string, child: string) {
    await this.check(parent);
    await this.check(child);
    return await this.board.linkTasks(parent, child);
  }
  async unlinkTasks(parent: string, child: string) {
    await this.check(parent);
    await this.check(child);
    return await this.board.unlinkTasks(parent, child);
  }
  async assignTask(...args: Parameters<Board["assignTask"]>) {
    await this.check(args[0]);
    return await this.board.assignTask(...args);
  }
  async reassignTask(...args: Parameters<Board["reassignTask"]>) {
    await this.check(args[0]);
    return await this.board.reassignTask(...args);
  }
  async promoteTask(...args: Parameters<Board["promoteTask"]>) {
    await this.check(args[0]);
    const out = await this.board.promoteTask(...args);
    if (this.tenant === null || out.ok || out.error === null) return out;
    // Its refusal lists the unfinished parents by id: an operator's cross-tenant parent is not named.
    let error = out.error;
    for (const parent of await this.board.parentIds(args[0])) {
      if ((await this.getTask(parent)) === null) error = error.replaceAll(parent, HIDDEN_PARENT);
    }
    return { ...out, error };
  }
  async claimWithWorkspace<R>(
    id: string,
    opts: Parameters<Board["claimWithWorkspace"]>[1],
    then: (claimed: Task | null) => R,
  ) {
    await this.check(id);
    return await this.board.claimWithWorkspace(id, opts, then);
  }
  /** Claims a task in the scope (its workspace is made after, outside the transaction: see `tasks.claim`). */
  async claimTask(...args: Parameters<Board["claimTask"]>) {
    await this.check(args[0]);
    return await this.board.claimTask(...args);
  }
  async releaseUnstartedClaim(...args: Parameters<Board["releaseUnstartedClaim"]>) {
    await this.check(args[0]);
    return await this.board.releaseUnstartedClaim(...args);
  }
  async setWorkspace(...args: Parameters<Board["setWorkspace"]>) {
    await this.check(args[0]);
    return await this.board.setWorkspace(...args);
  }
  async heartbeat(...args: Parameters<Board["heartbeat"]>) {
    await this.check(args[0]);
    return await this.board.heartbeat(...args);
  }
  async completeTask(...args: Parameters<Board["completeTask"]>) {
    await this.check(args[0]);
    return await this.board.completeTask(...args);
  }
  async editCompletedResult(...args: Parameters<Board["editCompletedResult"]>) {
    await this.check(args[0]);
    return await this.board.editCompletedResult(...args);
  }
  async blockTask(...args: Parameters<Board["blockTask"]>) {
    await this.check(args[0]);
    return await this.board.blockTask(...args);
  }
  async scheduleTask(...args: Parameters<Board["scheduleTask"]>) {
    await this.check(args[0]);
    return await this.board.scheduleTask(...args);
  }
  async unblockTask(...args: Parameters<Board["unblockTask"]>) {
    await this.check(args[0]);
    return await this.board.unblockTask(...args);
  }
  // The review lane's verbs (review.ts), on a task of the scope.
  async requestReview(...args: Parameters<Board["requestReview"]>) {
    await this.check(args[0]);
    return await this.board.requestReview(...args);
  }
  async requestChanges(...args: Parameters<Board["requestChanges"]>) {
    await this.check(args[0]);
    return await this.board.requestChanges(...args);
  }
  async reopenReview(...args: Parameters<Board["reopenReview"]>) {
    await this.check(args[0]);
    return await this.board.reopenReview(...args);
  }
  async archiveTask(...args: Parameters<Board["archiveTask"]>) {
    await this.check(args[0]);
    return await this.board.archiveTask(...args);
  }
  async deleteArchivedTask(...args: Parameters<Board["deleteArchivedTask"]>) {
    await this.check(args[0]);
    return await this.board.deleteArchivedTask(...args);
  }
  async deleteTask(...args: Parameters<Board["deleteTask"]>) {
    await this.check(args[0]);
    return await this.board.deleteTask(...args);
  }
  async updateTask(...args: Parameters<Board["updateTask"]>) {
    await this.check(args[0]);
    return await this.board.updateTask(...args);
  }
  async patchTask(...args: Parameters<Board["patchTask"]>) {
    await this.check(args[0]);
    return await this.hidingForeignParents(async () => await this.board.patchTask(...args));
  }
  async moveTask(...args: Parameters<Board["moveTask"]>) {
    await this.check(args[0]);
    return await this.hidingForeignParents(async () => await this.board.moveTask(...args));
  }
  async reclaimTask(...args: Parameters<Board["reclaimTask"]>) {
    await this.check(args[0]);
    return await this.board.reclaimTask(...args);
  }
  async cancelTask(...args: Parameters<Board["cancelTask"]>) {
    await this.check(args[0]);
    return await this.board.cancelTask(...args);
  }
  /** A run of a task in the scope (any other is NOT_FOUND like an unknown run), ended by reclaiming its task. */
  async terminateRun(...args: Parameters<Board["terminateRun"]>) {
    await this.getRun(args[0]);
    return await this.board.terminateRun(...args);
  }
  async addComment(...args: Parameters<Board["addComment"]>) {
    await this.check(args[0]);
    return await this.board.addComment(...args);
  }
  async addNotifySub(...args: Parameters<Board["addNotifySub"]>) {
    await this.check(args[0].task_id);
    return await this.board.addNotifySub(...args);
  }
  async removeNotifySub(...args: Parameters<Board["removeNotifySub"]>) {
    await this.check(args[0].task_id);
    return await this.board.removeNotifySub(...args);
  }
  /** The delivery log of one visible task, or of every task in the scope (a tenant's rows only). */
  async listNotifyDeliveries(query: Parameters<Board["listNotifyDeliveries"]>[0] = {}) {
    if (query.task_id) await this.check(query.task_id);
    if (this.tenant === null || query.task_id) return await this.board.listNotifyDeliveries(query);
    const own = await this.board.tenantTaskIds(this.tenant);
    const rows = await this.board.listNotifyDeliveries({ ...query, limit: DELIVERY_LOG_MAX_LIMIT });
    return rows.filter((r) => own.has(r.task_id)).slice(0, query.limit ?? 50);
  }
  /** Writes a test attempt to the log (kind `test`) for a visible task. */
  async recordNotifyDelivery(attempt: Parameters<Board["recordNotifyDelivery"]>[0]) {
    await this.check(attempt.task_id);
    return await this.board.recordNotifyDelivery(attempt);
  }
  /** A tenant's rule matches only its own cards, whatever tenant it asked for; the operator's may name one. */
  async addNotifyRule(input: Parameters<Board["addNotifyRule"]>[0]) {
    return await this.board.addNotifyRule({ ...input, tenant: this.tenant ?? input.tenant ?? null });
  }
  /** The operator's view: every rule; a tenant's: its own. */
  async listNotifyRules() {
    return await this.board.listNotifyRules(this.tenant);
  }
  /** False for a rule of another tenant, worded as for an unknown one. */
  async removeNotifyRule(id: number) {
    return await this.board.removeNotifyRule(id, this.tenant);
  }
  /**
   * Incidents (incidents.ts): the operator sees every one; a tenant only those whose folded cards
   * are all its own (an incident over several tenants' cards, or none, is the operator's).
   */
  async listIncidents(opts: { open?: boolean } = {}) {
    return await this.board.listIncidents({ ...opts, tenant: this.tenant });
  }
  /** NOT_FOUND for an incident outside the scope, worded as for an unknown one. */
  async resumeIncident(id: number, opts: { by: string }) {
    return await this.board.resumeIncident(id, { ...opts, tenant: this.tenant });
  }
  /** A usage report on a task of the scope (NOT_FOUND for any other). */
  async reportUsage(...args: Parameters<Board["reportUsage"]>) {
    await this.check(args[0]);
    return await this.board.reportUsage(...args);
  }
  /**
   * Usage roll-ups (usage.ts) confined to the scope: a tenant sums only its own reports, and a
   * `task_id` outside the scope is NOT_FOUND; the operator may narrow to a tenant.
   */
  async usageSummary(q: Parameters<Board["usageSummary"]>[0]) {
    if (q.task_id) await this.check(q.task_id);
    return await this.board.usageSummary({ ...q, tenant: this.readTenant(q.tenant) });
  }
  /** Every usage report of one task of the scope. */
  async usageOfTask(id: string) {
    await this.check(id);
    return await this.board.usageOfTask(id);
  }
  /**
   * Budgets (budgets.ts): a tenant sets, allows and sees only its own (counting only its own spend);
   * the operator's are the whole board's, and the operator sees every one.
   */
  async setBudget(input: Parameters<Board["setBudget"]>[0]) {
    return await this.board.setBudget(input, this.tenant);
  }
  async listBudgets() {
    return await this.board.listBudgets(this.tenant);
  }
  async allowBudget(input: Parameters<Board["allowBudget"]>[0]) {
    return await this.board.allowBudget(input, this.tenant);
  }
  /** Saved views (views.ts): a tenant lists, saves and deletes only its own. */
  async listViews() {
    return await this.board.listViews(this.tenant);
  }
  async saveView(input: Parameters<Board["saveView"]>[0]) {
    return await this.board.saveView(input, this.tenant);
  }
  async deleteView(name: string) {
    await this.board.deleteView(name, this.tenant);
  }
  /**
   * Completion gates (gates.ts): a tenant sets and reads the gates of its own cards only; the board's
   * and the profiles' defaults are the operator's. The command runner's verbs are the dispatcher's.
   */
  async setGates(...args: Parameters<Board["setGates"]>) {
    return await this.board.setGates(args[0], args[1], args[2], this.tenant);
  }
  async clearGates(...args: Parameters<Board["clearGates"]>) {
    return await this.board.clearGates(args[0], args[1], this.tenant);
  }
  async listGates() {
    return await this.board.listGates(this.tenant);
  }
  async cardGates(...args: Parameters<Board["cardGates"]>) {
    await this.check(args[0]);
    return await this.board.cardGates(...args);
  }
}

/** `board` seen through a caller's scope (what the API puts in each procedure's context). */
export function scopeBoard(board: Board, scope: BoardScope): ScopedBoard {
  return new ScopedBoard(board, scope);
}
