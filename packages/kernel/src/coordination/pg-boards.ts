import { boardSchemaName, type KanbanPostgres, normaliseSlug } from "@kanban/db";

const PREFIX = "kanban_";

/** The slug a board schema was made for, or null when the name is not one `boardSchemaName` gives. */
function slugOf(schema: string): string | null {
  if (!schema.startsWith(PREFIX)) return null;
  let slug: string;
  try {
    slug = normaliseSlug(schema.slice(PREFIX.length));
  } catch {
    return null;
  }
  // A slug too long for an identifier gets a hashed schema name (`kanban_<46 chars>_<9 hex>`); that
  // name reads back as a 56-character slug whose schema is the very same one, so the board is still
  // found and opened where it lives, only under that shorter slug.
  return boardSchemaName(slug) === schema ? slug : null;
}

/**
 * The boards a PostgreSQL database holds: every schema named `kanban_<slug>` that a board migration
 * made (it has the migration journal and `tasks`), as slugs, sorted. A schema is there for everyone
 * connected to the database, so this is what a process on any host serves; the home's board.json
 * files are host-local and say nothing about which boards exist here.
 *
 * Reads the catalog only (no lock, no board table): cheap enough for every dispatcher tick. Throws
 * the connection's typed, password-free error when the server cannot be reached.
 */
export async function listPgBoards(db: KanbanPostgres): Promise<string[]> {
  try {
    // `\_` : the underscore is literal, not LIKE's one-character wildcard. A half-made schema has no
    // tables yet (the migrations apply in one transaction), so it is not listed until it is usable.
    const { rows } = await db.pool.query<{ schema: string }>(
      `SELECT n.nspname AS schema
         FROM pg_namespace n
        WHERE n.nspname LIKE 'kanban\\_%'
          AND EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'tasks' AND c.relkind IN ('r', 'p'))
          AND EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = '__drizzle_migrations')
        ORDER BY n.nspname`,
    );
    const slugs = new Set<string>();
    for (const r of rows) {
      const slug = slugOf(r.schema);
      if (slug !== null) slugs.add(slug);
    }
    return [...slugs].sort();
  } catch (err) {
    throw db.failure(err);
  }
}
