import { index, sqliteTable } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/**
 * `kanban_incidents`: several runs of one profile (or remote host) that ended badly with the same
 * failure class inside a short window, folded into one record. Not a Hermes table. While an incident
 * is open (`closed_at` NULL) its scope is paused: the dispatcher spawns nothing there except one probe
 * run at a time, and the folded runs count no failure towards any card's breaker.
 *
 * - `scope` / `scope_key`: `profile` + the assignee, or `host` + the host id.
 * - `failure_class`: the class the runs shared (`transient`, `rate_limited`, `crashed`, ...).
 * - `task_ids`: a JSON array of the cards whose runs were folded in, first seen first.
 * - `next_probe_at`: when the next probe may start; it grows after each failed probe.
 * - `closed_by`: `probe` (a probe run completed) or `person:<name>` (resumed by hand).
 */
export const kanbanIncidents = sqliteTable(
  "kanban_incidents",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
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
