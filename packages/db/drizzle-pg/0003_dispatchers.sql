CREATE TABLE "kanban_dispatchers" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"host" text COLLATE "C" NOT NULL,
	"pid" bigint NOT NULL,
	"started_at" bigint NOT NULL,
	"heartbeat_at" bigint NOT NULL,
	"interval_seconds" bigint NOT NULL,
	"ticks" bigint DEFAULT 0 NOT NULL,
	"last_tick_at" bigint,
	"last_tick" text COLLATE "C",
	"stopped_at" bigint
);
--> statement-breakpoint
CREATE INDEX "idx_dispatchers_heartbeat" ON "kanban_dispatchers" USING btree ("heartbeat_at");