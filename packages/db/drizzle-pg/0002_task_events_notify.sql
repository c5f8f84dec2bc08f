-- Live events across processes (issue 14): every INSERT statement into task_events sends ONE
-- notification on the channel `kanban_events`, whatever the number of rows, carrying only the board's
-- schema and the highest new event id, e.g. {"schema":"kanban_default","id":42}. A schema name is at
-- most 63 bytes and an id at most 19 digits, so the payload is at most 101 bytes, far from
-- PostgreSQL's 8,000-byte limit. Listeners read the events themselves (id > their cursor); the
-- notification only wakes them. NOTIFY is delivered at commit, so a rolled-back insert wakes no one.
--
-- The migration runs with search_path set to the board's schema: the function and the trigger land
-- there, and the schema in the payload is read at run time (TG_TABLE_SCHEMA), never written here.
CREATE FUNCTION "kanban_notify_task_events"() RETURNS trigger
LANGUAGE plpgsql
-- Resolve nothing through the caller's search_path (pg_notify and max live in pg_catalog; the
-- transition table is found by its name whatever the path).
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  top bigint;
BEGIN
  SELECT max(id) INTO top FROM inserted_events;
  -- An INSERT ... SELECT that matched no rows still fires a statement trigger: nothing to announce.
  IF top IS NOT NULL THEN
    -- Spelled out rather than json_build_object, which pads with spaces: at most 101 bytes this way.
    PERFORM pg_notify('kanban_events', '{"schema":' || to_json(TG_TABLE_SCHEMA::text)::text || ',"id":' || top || '}');
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "task_events_notify"
AFTER INSERT ON "task_events"
REFERENCING NEW TABLE AS inserted_events
FOR EACH STATEMENT EXECUTE FUNCTION "kanban_notify_task_events"();
