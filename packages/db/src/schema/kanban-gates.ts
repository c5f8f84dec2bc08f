import { index, sqliteTable, uniqueIndex } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

// Completion gates (issue 20). Not Hermes tables: a Hermes build reads the board and ignores them,
// and completes cards as it always did.

/**
 * `kanban_gates`: what must pass before a card becomes done. One row per scope and key: `card` + a
 * task id, `profile` + an assignee (the implementer's default), `board` + `*`. The most specific row
 * wins whole (a card's row replaces its profile's and the board's, so a card can also opt out with an
 * empty spec). `spec` is JSON: `{commands: [{name, argv, timeout_seconds}], reviewer, approval}`.
 */
export const kanbanGates = sqliteTable(
  "kanban_gates",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    scope: text("scope").notNull(),
    scopeKey: text("scope_key").notNull(),
    spec: text("spec").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("idx_gates_scope").on(t.scope, t.scopeKey)],
);

/**
 * `kanban_verifications`: a card whose completion is being verified (it waits in `review`). One row
 * per card, replaced by each round; a row is live only while its card is in `review`.
 *
 * - `round`: the run id of the completion under test; evidence rows carry it.
 * - `stage`: the gate being waited on: `commands` (the dispatcher runs them), `reviewer` (the review
 *   lane spawns the reviewer) or `approval` (a person approves).
 * - `runner` / `runner_expires`: the dispatcher running the commands, so two never run them at
 *   once; an expired lease lets another take the round over.
 * - `host_id`: the remote host whose worker made the change (null: this board's own machine); the
 *   commands run where the workspace is.
 */
export const kanbanVerifications = sqliteTable("kanban_verifications", {
  taskId: text("task_id").primaryKey(),
  round: integer("round").notNull(),
  implementer: text("implementer"),
  stage: text("stage").notNull(),
  runner: text("runner"),
  runnerExpires: integer("runner_expires"),
  hostId: text("host_id"),
  startedAt: integer("started_at").notNull(),
});

/**
 * `kanban_evidence`: what each gate found, kept on the card. `gate`: `command`, `reviewer`,
 * `approval` or `change` (the files and diff of a git workspace); `outcome`: `passed`, `failed`,
 * `error` (the gate could not run) or `recorded` (a change); `detail` is JSON (argv, exit code,
 * duration, who); `body` is the tail of a command's output or the diff.
 */
export const kanbanEvidence = sqliteTable(
  "kanban_evidence",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
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
