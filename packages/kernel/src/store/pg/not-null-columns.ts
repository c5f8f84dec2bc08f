/**
 * Column names that are NOT NULL in every board table that has them (derived from the PostgreSQL
 * schema; not-null-columns.test.ts keeps the two in step). An ORDER BY term naming one of them
 * needs no NULL order spelled out, which keeps it matching its index (see translate.ts).
 */
export const NOT_NULL_COLUMNS: ReadonlySet<string> = new Set([
  "author",
  "block_recurrences",
  "chat_id",
  "child_id",
  "consecutive_failures",
  "created_at",
  "delivery_mode",
  "filename",
  "goal_mode",
  "heartbeat_at",
  "host",
  "id",
  "interval_seconds",
  "kind",
  "last_event_id",
  "last_ping_event_id",
  "parent_id",
  "pid",
  "platform",
  "rowid",
  "size",
  "status",
  "stored_path",
  "task_id",
  "thread_id",
  "ticks",
  "title",
  "workspace_kind",
]);
