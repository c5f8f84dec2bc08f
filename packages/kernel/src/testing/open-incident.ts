import { boardInternals, rawSql } from "./internals.ts";
import type { TestBoard } from "./test-board.ts";

/**
 * Opens an incident of a profile no test task runs under ('other'), written straight to the table:
 * it pauses nothing the test claims, but while it is open no claim walk may run beside another
 * (store/pg/shared-writers.ts), so a walk on PostgreSQL runs as the board's one writer.
 */
export async function openIncidentElsewhere(b: TestBoard): Promise<void> {
  await rawSql(b).run(
    "INSERT INTO kanban_incidents (scope, scope_key, failure_class, opened_at, failures, task_ids, probes) VALUES ('profile', 'other', 'crashed', ?, 3, '[]', 0)",
    boardInternals(b).ctx.now(),
  );
}
