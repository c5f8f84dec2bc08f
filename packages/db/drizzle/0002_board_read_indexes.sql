-- Indexes of ours, for reads that 0001 left scanning (hand-written for the same reason as 0001).
--
-- The board's ready column breaks ties on id, as its page cursors do. Without id in the index a
-- column whose cards share a priority and a creation second (a bulk import) was read whole and
-- sorted to show its first page. The dispatcher's lane keeps its FIFO tie-break on rowid.
DROP INDEX IF EXISTS `idx_tasks_ready_priority`;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `idx_tasks_ready_priority` ON `tasks` (`priority` DESC, `created_at`, `id`) WHERE `status` = 'ready';
--> statement-breakpoint
-- Diagnostics look for tasks that keep failing. Almost every task has no failures, so the index is
-- small, and a completion (which writes consecutive_failures = 0 over a 0) never touches it.
CREATE INDEX IF NOT EXISTS `idx_tasks_failing` ON `tasks` (`consecutive_failures`) WHERE `consecutive_failures` > 0;
