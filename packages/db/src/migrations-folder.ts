import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Folder of the committed drizzle-kit migrations. Computed from this file's location at call time
 * (not `new URL(..., import.meta.url)`, which bundlers treat as an asset import). Bundled hosts
 * (Next) pass `migrationsFolder` explicitly instead.
 */
export function defaultMigrationsFolder(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "drizzle");
}

/** Folder of the committed drizzle-kit migrations for PostgreSQL (`drizzle-pg/`), found the same way. */
export function defaultPgMigrationsFolder(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "drizzle-pg");
}
