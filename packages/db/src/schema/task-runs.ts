import { index, sqliteTable } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/**
 * `task_runs`: one row per attempt. Invariant kept by the kernel: `tasks.current_run_id` is set
 * exactly when the task has one run with `ended_at IS NULL`.
 */
export const taskRuns = sqliteTable(
  "task_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    taskId: text("task_id").notNull(),
    profile: text("profile"),
    stepKey: text("step_key"),
    status: text("status").notNull(),
    claimLock: text("claim_lock"),
    claimExpires: integer("claim_expires"),
    workerPid: integer("worker_pid"),
    maxRuntimeSeconds: integer("max_runtime_seconds"),
    lastHeartbeatAt: integer("last_heartbeat_at"),
    startedAt: integer("started_at").notNull(),
    endedAt: integer("ended_at"),
    outcome: text("outcome"),
    summary: text("summary"),
    metadata: text("metadata"),
    error: text("error"),
  },
  (t) => [index("idx_runs_task").on(t.taskId, t.startedAt), index("idx_runs_status").on(t.status)],
);
