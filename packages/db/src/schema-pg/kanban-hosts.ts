import { index, pgTable } from "drizzle-orm/pg-core";
import { integer, text } from "./columns.ts";

/** `kanban_hosts` on PostgreSQL (see `../schema/kanban-hosts.ts`). */
export const kanbanHosts = pgTable(
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
