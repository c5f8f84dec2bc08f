-- Live events no longer come from a trigger (0002). Each INSERT into task_events sent a NOTIFY, and a
-- transaction that notifies takes one lock of the whole database cluster while it commits, so every
-- event-writing commit of every board waited for the one before it (8 claiming workers made 13-22 %
-- more cycles without it). Writers now announce their board themselves, coalesced to at most one
-- notification per board and process every few milliseconds, with the same channel and payload
-- (`eventsAnnouncementSql` in src/pg-listen.ts; the kernel's PostgreSQL session sends it).
DROP TRIGGER IF EXISTS "task_events_notify" ON "task_events";
--> statement-breakpoint
DROP FUNCTION IF EXISTS "kanban_notify_task_events"();
