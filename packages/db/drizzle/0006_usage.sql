CREATE TABLE `kanban_usage` (
	`id` INTEGER PRIMARY KEY AUTOINCREMENT,
	`task_id` TEXT NOT NULL,
	`run_id` INTEGER,
	`profile` TEXT,
	`model` TEXT,
	`tokens_in` INTEGER DEFAULT 0 NOT NULL,
	`tokens_out` INTEGER DEFAULT 0 NOT NULL,
	`cache_read` INTEGER DEFAULT 0 NOT NULL,
	`cache_write` INTEGER DEFAULT 0 NOT NULL,
	`cost_micro_usd` INTEGER,
	`cost_source` TEXT,
	`via` TEXT NOT NULL,
	`tenant` TEXT,
	`reported_at` INTEGER NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_usage_task` ON `kanban_usage` (`task_id`,`run_id`);--> statement-breakpoint
CREATE INDEX `idx_usage_reported` ON `kanban_usage` (`reported_at`);