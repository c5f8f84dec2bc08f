import { sql } from "drizzle-orm";
import { index, pgTable, uniqueIndex } from "drizzle-orm/pg-core";
import { integer, text } from "./columns.ts";

/**
 * `tasks` on PostgreSQL: the same columns, nullability and defaults as `../schema/tasks.ts` (Hermes'
 * table), in the same order, and every index of the SQLite board by the same name, including the
 * partial indexes that SQLite only gets from the hand-written migrations 0001/0002 (drizzle-kit can
 * express them for PostgreSQL).
 *
 * Ordering of NULLs: SQLite puts NULL first in ascending order and last in descending order;
 * PostgreSQL does the opposite by default. Indexes whose order matters say SQLite's order explicitly,
 * and so must any kernel query that sorts a nullable column (`NULLS LAST` is valid on both engines).
 */
export const tasks = pgTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    title: text("title").notNull(),
    body: text("body"),
    assignee: text("assignee"),
    status: text("status").notNull(),
    priority: integer("priority").default(0),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull(),
    startedAt: integer("started_at"),
    completedAt: integer("completed_at"),
    workspaceKind: text("workspace_kind").notNull().default("scratch"),
    workspacePath: text("workspace_path"),
    branchName: text("branch_name"),
    projectId: text("project_id"),
    claimLock: text("claim_lock"),
    claimExpires: integer("claim_expires"),
    tenant: text("tenant"),
    result: text("result"),
    idempotencyKey: text("idempotency_key"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    workerPid: integer("worker_pid"),
    lastFailureError: text("last_failure_error"),
    maxRuntimeSeconds: integer("max_runtime_seconds"),
    lastHeartbeatAt: integer("last_heartbeat_at"),
    currentRunId: integer("current_run_id"),
    workflowTemplateId: text("workflow_template_id"),
    currentStepKey: text("current_step_key"),
    skills: text("skills"),
    modelOverride: text("model_override"),
    providerOverride: text("provider_override"),
    reasoningEffort: text("reasoning_effort"),
    maxRetries: integer("max_retries"),
    goalMode: integer("goal_mode").notNull().default(0),
    goalMaxTurns: integer("goal_max_turns"),
    completionContract: text("completion_contract"),
    sessionId: text("session_id"),
    blockKind: text("block_kind"),
    blockRecurrences: integer("block_recurrences").notNull().default(0),
    // SQLite's implicit rowid, made explicit: the kernel breaks ties between tasks created in the
    // same second by insertion order (`ORDER BY created_at, rowid`), and PostgreSQL has no row order
    // of its own. Same name, so the kernel's SQL reads the same on both engines.
    rowid: integer("rowid").notNull().generatedByDefaultAsIdentity(),
  },
  (t) => [
    index("idx_tasks_assignee_status").on(t.assignee, t.status),
    index("idx_tasks_status").on(t.status),
    // Partial on PostgreSQL only (migration 0013): most tasks have no tenant, idempotency key or
    // session, and every claim and completion writes a new row version into each index of the row
    // (status is indexed, so no update is HOT). Lookups are by value (`col = ?`), which implies
    // NOT NULL, so they still use these. About 6 fewer buffers per claim and per completion.
    index("idx_tasks_tenant").on(t.tenant).where(sql`"tenant" IS NOT NULL`),
    index("idx_tasks_idempotency").on(t.idempotencyKey).where(sql`"idempotency_key" IS NOT NULL`),
    index("idx_tasks_session_id").on(t.sessionId).where(sql`"session_id" IS NOT NULL`),
    // SQLite migration 0001: the done and archived columns, newest finished first.
    index("idx_tasks_done_recent").on(sql`coalesce("completed_at", "created_at")`, t.id).where(sql`"status" = 'done'`),
    index("idx_tasks_archived_recent")
      .on(sql`coalesce("completed_at", "created_at")`, t.id)
      .where(sql`"status" = 'archived'`),
    // SQLite migration 0002: the ready lane by priority (NULL last, as SQLite's DESC), age, then id.
    index("idx_tasks_ready_priority")
      .on(t.priority.desc().nullsLast(), t.createdAt, t.id)
      .where(sql`"status" = 'ready'`),
    uniqueIndex("idx_tasks_rowid").on(t.rowid),
    index("idx_tasks_failing").on(t.consecutiveFailures).where(sql`"consecutive_failures" > 0`),
  ],
);
