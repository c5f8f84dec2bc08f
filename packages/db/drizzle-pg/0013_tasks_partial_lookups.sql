-- The tenant, idempotency-key and session lookups index only the tasks that have one. Every claim
-- and completion changes a task's status (an indexed column), so PostgreSQL writes a new entry into
-- every index of the row; most tasks have none of these three values, and their entries were never
-- read. Lookups are by value, which implies NOT NULL, so they use these indexes as before. SQLite
-- boards keep Hermes' full indexes.
DROP INDEX "idx_tasks_tenant";--> statement-breakpoint
DROP INDEX "idx_tasks_idempotency";--> statement-breakpoint
DROP INDEX "idx_tasks_session_id";--> statement-breakpoint
CREATE INDEX "idx_tasks_tenant" ON "tasks" USING btree ("tenant") WHERE "tenant" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "idx_tasks_idempotency" ON "tasks" USING btree ("idempotency_key") WHERE "idempotency_key" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "idx_tasks_session_id" ON "tasks" USING btree ("session_id") WHERE "session_id" IS NOT NULL;