CREATE TABLE `kanban_flow_blocks` (
	`task_id` TEXT NOT NULL,
	`seq` INTEGER NOT NULL,
	`tenant` TEXT NOT NULL,
	`reason` TEXT NOT NULL,
	`started_at` INTEGER NOT NULL,
	`ended_at` INTEGER,
	PRIMARY KEY(`task_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `idx_flow_blocks_start` ON `kanban_flow_blocks` (`started_at`);--> statement-breakpoint
CREATE INDEX `idx_flow_blocks_tenant` ON `kanban_flow_blocks` (`tenant`,`started_at`);--> statement-breakpoint
CREATE TABLE `kanban_flow_cards` (
	`task_id` TEXT PRIMARY KEY,
	`tenant` TEXT DEFAULT '' NOT NULL,
	`completed_at` INTEGER NOT NULL,
	`cycle` INTEGER,
	`lead` INTEGER NOT NULL,
	`running` INTEGER NOT NULL,
	`blocked` INTEGER NOT NULL,
	`waiting` INTEGER NOT NULL,
	`runs` INTEGER NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_flow_cards_done` ON `kanban_flow_cards` (`completed_at`);--> statement-breakpoint
CREATE INDEX `idx_flow_cards_tenant` ON `kanban_flow_cards` (`tenant`,`completed_at`);--> statement-breakpoint
CREATE TABLE `kanban_flow_hist` (
	`tenant` TEXT NOT NULL,
	`day` INTEGER NOT NULL,
	`metric` INTEGER NOT NULL,
	`bucket` INTEGER NOT NULL,
	`n` INTEGER NOT NULL,
	`total` INTEGER NOT NULL,
	`min_value` INTEGER NOT NULL,
	`max_value` INTEGER NOT NULL,
	PRIMARY KEY(`tenant`, `day`, `metric`, `bucket`)
);
--> statement-breakpoint
CREATE INDEX `idx_flow_hist_day` ON `kanban_flow_hist` (`day`);--> statement-breakpoint
CREATE TABLE `kanban_flow_ready` (
	`task_id` TEXT PRIMARY KEY,
	`tenant` TEXT NOT NULL,
	`ready_since` INTEGER NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_flow_ready_since` ON `kanban_flow_ready` (`ready_since`);--> statement-breakpoint
CREATE INDEX `idx_flow_ready_tenant` ON `kanban_flow_ready` (`tenant`,`ready_since`);--> statement-breakpoint
CREATE TABLE `kanban_flow_state` (
	`id` INTEGER PRIMARY KEY,
	`version` INTEGER NOT NULL,
	`event_id` INTEGER NOT NULL,
	`rebuild_after` TEXT
);
