CREATE TABLE `kanban_evidence` (
	`id` INTEGER PRIMARY KEY AUTOINCREMENT,
	`task_id` TEXT NOT NULL,
	`round` INTEGER NOT NULL,
	`gate` TEXT NOT NULL,
	`name` TEXT NOT NULL,
	`outcome` TEXT NOT NULL,
	`detail` TEXT,
	`body` TEXT,
	`created_at` INTEGER NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_evidence_task` ON `kanban_evidence` (`task_id`,`round`);--> statement-breakpoint
CREATE TABLE `kanban_gates` (
	`id` INTEGER PRIMARY KEY AUTOINCREMENT,
	`scope` TEXT NOT NULL,
	`scope_key` TEXT NOT NULL,
	`spec` TEXT NOT NULL,
	`updated_at` INTEGER NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `idx_gates_scope` ON `kanban_gates` (`scope`,`scope_key`);--> statement-breakpoint
CREATE TABLE `kanban_verifications` (
	`task_id` TEXT PRIMARY KEY,
	`round` INTEGER NOT NULL,
	`implementer` TEXT,
	`stage` TEXT NOT NULL,
	`runner` TEXT,
	`runner_expires` INTEGER,
	`host_id` TEXT,
	`started_at` INTEGER NOT NULL
);
