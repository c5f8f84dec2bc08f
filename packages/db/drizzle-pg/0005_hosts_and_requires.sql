CREATE TABLE "kanban_hosts" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"name" text COLLATE "C",
	"labels" text COLLATE "C",
	"version" text COLLATE "C",
	"capacity" bigint,
	"running" bigint DEFAULT 0 NOT NULL,
	"tenant" text COLLATE "C",
	"first_seen_at" bigint NOT NULL,
	"last_seen_at" bigint NOT NULL,
	"lease_seconds" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kanban_task_requires" (
	"task_id" text COLLATE "C" NOT NULL,
	"label" text COLLATE "C" NOT NULL,
	CONSTRAINT "kanban_task_requires_pkey" PRIMARY KEY("task_id","label")
);
--> statement-breakpoint
CREATE INDEX "idx_hosts_tenant" ON "kanban_hosts" USING btree ("tenant");--> statement-breakpoint
CREATE INDEX "idx_task_requires_label" ON "kanban_task_requires" USING btree ("label");