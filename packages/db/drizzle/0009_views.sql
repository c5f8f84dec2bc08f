CREATE TABLE `kanban_views` (
	`id` INTEGER PRIMARY KEY AUTOINCREMENT,
	`name` TEXT NOT NULL,
	`tenant` TEXT DEFAULT '' NOT NULL,
	`query` TEXT NOT NULL,
	`created_by` TEXT,
	`updated_at` INTEGER NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `idx_views_name` ON `kanban_views` (`tenant`,`name`);