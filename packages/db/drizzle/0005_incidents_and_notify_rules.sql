CREATE TABLE `kanban_incidents` (
	`id` INTEGER PRIMARY KEY AUTOINCREMENT,
	`scope` TEXT NOT NULL,
	`scope_key` TEXT NOT NULL,
	`failure_class` TEXT NOT NULL,
	`tenant` TEXT,
	`opened_at` INTEGER NOT NULL,
	`closed_at` INTEGER,
	`closed_by` TEXT,
	`failures` INTEGER DEFAULT 0 NOT NULL,
	`task_ids` TEXT,
	`last_error` TEXT,
	`probes` INTEGER DEFAULT 0 NOT NULL,
	`next_probe_at` INTEGER,
	`probe_task_id` TEXT,
	`probe_run_id` INTEGER
);
--> statement-breakpoint
CREATE INDEX `idx_incidents_scope` ON `kanban_incidents` (`scope`,`scope_key`,`closed_at`);--> statement-breakpoint
CREATE TABLE `kanban_notify_deliveries` (
	`id` INTEGER PRIMARY KEY AUTOINCREMENT,
	`task_id` TEXT NOT NULL,
	`platform` TEXT NOT NULL,
	`chat_id` TEXT NOT NULL,
	`thread_id` TEXT DEFAULT '' NOT NULL,
	`rule_id` INTEGER,
	`event_id` INTEGER,
	`incident_id` INTEGER,
	`kind` TEXT NOT NULL,
	`outcome` TEXT NOT NULL,
	`http_status` INTEGER,
	`error` TEXT,
	`attempted_at` INTEGER NOT NULL,
	`duration_ms` INTEGER
);
--> statement-breakpoint
CREATE INDEX `idx_notify_deliveries_sub` ON `kanban_notify_deliveries` (`task_id`,`platform`,`chat_id`,`thread_id`,`id`);--> statement-breakpoint
CREATE TABLE `kanban_notify_rules` (
	`id` INTEGER PRIMARY KEY AUTOINCREMENT,
	`scope` TEXT NOT NULL,
	`scope_key` TEXT DEFAULT '' NOT NULL,
	`platform` TEXT NOT NULL,
	`chat_id` TEXT NOT NULL,
	`thread_id` TEXT DEFAULT '' NOT NULL,
	`user_id` TEXT,
	`chat_type` TEXT,
	`notifier_profile` TEXT,
	`delivery_mode` TEXT DEFAULT 'notify' NOT NULL,
	`delivery_metadata` TEXT,
	`tenant` TEXT,
	`created_at` INTEGER NOT NULL,
	`last_incident_id` INTEGER DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `idx_notify_rules_key` ON `kanban_notify_rules` (`scope`,`scope_key`,`platform`,`chat_id`,`thread_id`);--> statement-breakpoint
CREATE INDEX `idx_notify_rules_scope` ON `kanban_notify_rules` (`scope`,`scope_key`);