CREATE TABLE "kanban_flow_blocks" (
	"task_id" text COLLATE "C" NOT NULL,
	"seq" bigint NOT NULL,
	"tenant" text COLLATE "C" NOT NULL,
	"reason" text COLLATE "C" NOT NULL,
	"started_at" bigint NOT NULL,
	"ended_at" bigint,
	CONSTRAINT "kanban_flow_blocks_pkey" PRIMARY KEY("task_id","seq")
);
--> statement-breakpoint
CREATE TABLE "kanban_flow_cards" (
	"task_id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"tenant" text COLLATE "C" DEFAULT '' NOT NULL,
	"completed_at" bigint NOT NULL,
	"cycle" bigint,
	"lead" bigint NOT NULL,
	"running" bigint NOT NULL,
	"blocked" bigint NOT NULL,
	"waiting" bigint NOT NULL,
	"runs" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kanban_flow_hist" (
	"tenant" text COLLATE "C" NOT NULL,
	"day" bigint NOT NULL,
	"metric" bigint NOT NULL,
	"bucket" bigint NOT NULL,
	"n" bigint NOT NULL,
	"total" bigint NOT NULL,
	"min_value" bigint NOT NULL,
	"max_value" bigint NOT NULL,
	CONSTRAINT "kanban_flow_hist_pkey" PRIMARY KEY("tenant","day","metric","bucket")
);
--> statement-breakpoint
CREATE TABLE "kanban_flow_ready" (
	"task_id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"tenant" text COLLATE "C" NOT NULL,
	"ready_since" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kanban_flow_state" (
	"id" bigint PRIMARY KEY NOT NULL,
	"version" bigint NOT NULL,
	"event_id" bigint NOT NULL,
	"rebuild_after" text COLLATE "C"
);
--> statement-breakpoint
CREATE INDEX "idx_flow_blocks_start" ON "kanban_flow_blocks" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "idx_flow_blocks_tenant" ON "kanban_flow_blocks" USING btree ("tenant","started_at");--> statement-breakpoint
CREATE INDEX "idx_flow_cards_done" ON "kanban_flow_cards" USING btree ("completed_at");--> statement-breakpoint
CREATE INDEX "idx_flow_cards_tenant" ON "kanban_flow_cards" USING btree ("tenant","completed_at");--> statement-breakpoint
CREATE INDEX "idx_flow_hist_day" ON "kanban_flow_hist" USING btree ("day");--> statement-breakpoint
CREATE INDEX "idx_flow_ready_since" ON "kanban_flow_ready" USING btree ("ready_since");--> statement-breakpoint
CREATE INDEX "idx_flow_ready_tenant" ON "kanban_flow_ready" USING btree ("tenant","ready_since");