-- Indexes of ours, not Hermes' (Hermes ignores indexes it does not know). Partial where possible, so
-- that the hot writes (claim, complete, every event) do not pay for them. drizzle-kit cannot express
-- partial or expression indexes for SQLite, hence a hand-written migration.
--
-- The board pages its done and archived columns newest-finished first without sorting them.
CREATE INDEX IF NOT EXISTS `idx_tasks_done_recent` ON `tasks` (coalesce(`completed_at`, `created_at`), `id`) WHERE `status` = 'done';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `idx_tasks_archived_recent` ON `tasks` (coalesce(`completed_at`, `created_at`), `id`) WHERE `status` = 'archived';
--> statement-breakpoint
-- The dispatcher's ready lane and the board's ready column, by priority then age, without sorting.
CREATE INDEX IF NOT EXISTS `idx_tasks_ready_priority` ON `tasks` (`priority` DESC, `created_at`) WHERE `status` = 'ready';
--> statement-breakpoint
-- Warning badges and diagnostics find hallucination events without scanning the event log.
CREATE INDEX IF NOT EXISTS `idx_events_warnings` ON `task_events` (`task_id`, `id`) WHERE `kind` IN ('completion_blocked_hallucination', 'suspected_hallucinated_references');
