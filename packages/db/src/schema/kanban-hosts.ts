import { index, sqliteTable } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/**
 * `kanban_hosts`: remote hosts (`kanban-dispatcher --server`) that said hello to this board. Not a
 * Hermes table (Hermes runs workers on one machine); an extra table leaves Hermes' own untouched, so
 * a Hermes build still reads the board. Written only by the kernel's host verbs.
 *
 * - `id`: the host's own id (`kh-<16 hex>`, kept in its `<home>/kanban/host.json`), so it is the same
 *   row across the host's restarts.
 * - `labels`: a JSON array of the labels it offers, sorted; a task that requires labels goes only to
 *   a host holding all of them.
 * - `tenant`: the tenant of the host's token (NULL: any tenant); such a host claims only that tenant's tasks.
 * - `last_seen_at` + `lease_seconds`: a reader judges a host connected while now is within its lease.
 */
export const kanbanHosts = sqliteTable(
  "kanban_hosts",
  {
    id: text("id").primaryKey(),
    name: text("name"),
    labels: text("labels"),
    version: text("version"),
    capacity: integer("capacity"),
    running: integer("running").notNull().default(0),
    tenant: text("tenant"),
    firstSeenAt: integer("first_seen_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
    leaseSeconds: integer("lease_seconds").notNull(),
  },
  (t) => [index("idx_hosts_tenant").on(t.tenant)],
);
