import { index, sqliteTable } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/**
 * `tasks`: one row per card. Column names, declared types and defaults match Hermes'
 * `kanban.db` exactly (spec §1.3), including the columns newer Hermes versions add, so a file we
 * create is a board Hermes' own Python kernel opens without migrating, and a Hermes board opens
 * here. Times are unix epoch *seconds*, as Hermes stores them.
 *
 * Readers must select by column name: on upgraded boards the physical column order follows
 * migration order, and a newer Hermes may have appended columns we do not know.
 */
export const tasks = sqliteTable(
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
  },
  (t) => [
    index("idx_tasks_assignee_status").on(t.assignee, t.status),
    index("idx_tasks_status").on(t.status),
    index("idx_tasks_tenant").on(t.tenant),
    index("idx_tasks_idempotency").on(t.idempotencyKey),
    index("idx_tasks_session_id").on(t.sessionId),
    // Plus the partial indexes of the hand-written migrations 0001 and 0002 (idx_tasks_done_recent,
    // idx_tasks_archived_recent, idx_tasks_ready_priority, idx_tasks_failing): drizzle-kit cannot
    // express them for SQLite.
  ],
);
