import { index, pgTable, uniqueIndex } from "drizzle-orm/pg-core";
import { autoincrementId, integer, text } from "./columns.ts";

/** `kanban_gates` on PostgreSQL (see `../schema/kanban-gates.ts`). */
export const kanbanGates = pgTable(
  "kanban_gates",
  {
    id: autoincrementId("id"),
    scope: text("scope").notNull(),
    scopeKey: text("scope_key").notNull(),
    spec: text("spec").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("idx_gates_scope").on(t.scope, t.scopeKey)],
);

/** `kanban_verifications` on PostgreSQL. */
export const kanbanVerifications = pgTable("kanban_verifications", {
  taskId: text("task_id").primaryKey(),
  round: integer("round").notNull(),
  implementer: text("implementer"),
  stage: text("stage").notNull(),
  runner: text("runner"),
  runnerExpires: integer("runner_expires"),
  hostId: text("host_id"),
  startedAt: integer("started_at").notNull(),
});

/** `kanban_evidence` on PostgreSQL. */
export const kanbanEvidence = pgTable(
  "kanban_evidence",
  {
    id: autoincrementId("id"),
    taskId: text("task_id").notNull(),
    round: integer("round").notNull(),
    gate: text("gate").notNull(),
    name: text("name").notNull(),
    outcome: text("outcome").notNull(),
    detail: text("detail"),
    body: text("body"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("idx_evidence_task").on(t.taskId, t.round)],
);
