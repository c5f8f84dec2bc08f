-- The kernel's SQL reads event payloads (JSON stored as text, as Hermes writes it) with SQLite's
-- json_valid/json_extract, which never fail on a malformed payload. A cast to jsonb would raise and
-- abort the whole statement (one bad row would stop a dispatcher tick), so PostgreSQL boards get
-- this forgiving parse: the payload as jsonb, or NULL when it is not JSON. It is created in the
-- board's schema (the migrator runs with search_path set to it).
CREATE FUNCTION kanban_try_jsonb(payload text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RETURN payload::jsonb;
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;
