-- Ours, not Hermes': lets the board page its done/archived columns newest-finished first
-- without sorting them (drizzle-kit cannot express an index on an expression for SQLite).
CREATE INDEX IF NOT EXISTS `idx_tasks_status_finished` ON `tasks` (`status`, coalesce(`completed_at`, `created_at`), `id`);
--> statement-breakpoint
-- Ours too: active columns and the dispatcher's ready lane read by priority, then age, without sorting.
CREATE INDEX IF NOT EXISTS `idx_tasks_status_priority` ON `tasks` (`status`, `priority` DESC, `created_at`, `id`);
