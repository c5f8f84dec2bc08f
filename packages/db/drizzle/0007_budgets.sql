CREATE TABLE `kanban_budgets` (
	`id` INTEGER PRIMARY KEY AUTOINCREMENT,
	`scope` TEXT NOT NULL,
	`scope_key` TEXT NOT NULL,
	`tenant` TEXT DEFAULT '' NOT NULL,
	`limit_micro_usd` INTEGER NOT NULL,
	`warn_percent` INTEGER DEFAULT 80 NOT NULL,
	`allowance_micro_usd` INTEGER DEFAULT 0 NOT NULL,
	`allowance_period` INTEGER,
	`warned_period` INTEGER,
	`updated_at` INTEGER NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `idx_budgets_scope` ON `kanban_budgets` (`scope`,`scope_key`,`tenant`);