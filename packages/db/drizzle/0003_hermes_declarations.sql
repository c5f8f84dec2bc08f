-- Column declarations exactly as Hermes writes them, so that `PRAGMA table_info` of our boards is
-- Hermes' column by column: no NOT NULL on a column-level PRIMARY KEY (tasks, task_comments,
-- task_events, task_runs, task_attachments `id`), and upper-case declared types.
--
-- Hand-written (drizzle-kit would rebuild every table: copy all rows, drop legacy columns a Hermes
-- upgrade keeps, reorder columns, and drop our partial indexes with the old tables). Removing a NOT
-- NULL constraint does not change the file's content, so SQLite documents editing the declaration in
-- sqlite_schema as the way to do it (https://www.sqlite.org/lang_altertable.html, "making other kinds
-- of table schema changes"); the case of a declared type does not change its affinity either. Rows,
-- rowids, indexes and AUTOINCREMENT counters stay as they are. Only drizzle-kit's back-quoted DDL
-- matches; tables created by Hermes already read this way and are left alone. It runs inside the
-- migrator's single transaction (a failure rolls all of it back); the connection lifts SQLite's
-- defensive mode for the migration only, since writable_schema needs it.
PRAGMA writable_schema = ON;
--> statement-breakpoint
UPDATE sqlite_master
SET sql = replace(replace(replace(replace(sql,
  '` text PRIMARY KEY NOT NULL', '` TEXT PRIMARY KEY'),
  ' PRIMARY KEY AUTOINCREMENT NOT NULL', ' PRIMARY KEY AUTOINCREMENT'),
  '` text', '` TEXT'),
  '` integer', '` INTEGER')
WHERE type = 'table'
  AND name IN ('tasks', 'task_links', 'task_comments', 'task_events', 'task_runs', 'kanban_notify_subs', 'task_attachments');
--> statement-breakpoint
-- RESET also reloads this connection's copy of the schema.
PRAGMA writable_schema = RESET;
--> statement-breakpoint
-- Other connections notice a schema change by the schema cookie, which an edit of sqlite_schema
-- does not bump and a static migration cannot set to "current + 1": a throw-away table bumps it.
CREATE TABLE `__kanban_schema_cookie_bump` (`x` INTEGER);
--> statement-breakpoint
DROP TABLE `__kanban_schema_cookie_bump`;
