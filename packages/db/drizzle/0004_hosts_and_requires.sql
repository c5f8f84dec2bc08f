CREATE TABLE `kanban_hosts` (
	`id` TEXT PRIMARY KEY,
	`name` TEXT,
	`labels` TEXT,
	`version` TEXT,
	`capacity` INTEGER,
	`running` INTEGER DEFAULT 0 NOT NULL,
	`tenant` TEXT,
	`first_seen_at` INTEGER NOT NULL,
	`last_seen_at` INTEGER NOT NULL,
	`lease_seconds` INTEGER NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_hosts_tenant` ON `kanban_hosts` (`tenant`);--> statement-breakpoint
CREATE TABLE `kanban_task_requires` (
	`task_id` TEXT NOT NULL,
	`label` TEXT NOT NULL,
	PRIMARY KEY(`task_id`, `label`)
);
--> statement-breakpoint
CREATE INDEX `idx_task_requires_label` ON `kanban_task_requires` (`label`);