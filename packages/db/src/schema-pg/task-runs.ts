import { index, pgTable } from "drizzle-orm/pg-core";
import { autoincrementId, integer, text } from "./columns.ts";

/** `task_runs` on PostgreSQL (see `../schema/task-runs.ts`). */
export const taskRuns = pgTable(
  "task_runs",
  {
    id: autoincrementId("id"),
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
