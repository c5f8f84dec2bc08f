import { index, pgTable } from "drizzle-orm/pg-core";
import { autoincrementId, integer, text } from "./columns.ts";

/** `kanban_incidents` on PostgreSQL (see `../schema/kanban-incidents.ts`). */
export const kanbanIncidents = pgTable(
  "kanban_incidents",
  {
    id: autoincrementId("id"),
    scope: text("scope").notNull(),
    scopeKey: text("scope_key").notNull(),
    failureClass: text("failure_class").notNull(),
    tenant: text("tenant"),
    openedAt: integer("opened_at").notNull(),
    closedAt: integer("closed_at"),
    closedBy: text("closed_by"),
    failures: integer("failures").notNull().default(0),
    taskIds: text("task_ids"),
    lastError: text("last_error"),
    probes: integer("probes").notNull().default(0),
    nextProbeAt: integer("next_probe_at"),
    probeTaskId: text("probe_task_id"),
    probeRunId: integer("probe_run_id"),
  },
  (t) => [index("idx_incidents_scope").on(t.scope, t.scopeKey, t.closedAt)],
);
